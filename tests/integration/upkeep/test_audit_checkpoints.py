"""Audit finding 4: the audit log could be rewritten. Deleting the last rows, or deleting one
and recomputing every later hash with the standard library, left `audit verify` saying
"intact". The chain is now keyed, and signed checkpoints held elsewhere detect the rest."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select, text

from certificate.audit import AuditEvent
from certificate.db import db


@pytest.fixture
def events(app: Flask, client: FlaskClient) -> list[int]:
    """Eight audit events (accounts signed up through the API); their ids in order."""
    for n in range(8):
        response = client.post(
            "/api/v1/accounts",
            json={"email": f"p{n}@example.org", "password": "a long password", "name": "P"},
        )
        assert response.status_code == 201
    with app.app_context():
        ids = list(db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))
    assert len(ids) == 8
    return ids


def _checkpoint(runner: FlaskCliRunner, tmp_path: Path) -> Path:
    printed = runner.invoke(args=["audit", "checkpoint"])
    assert printed.exit_code == 0, printed.output
    document = json.loads(printed.output)
    assert set(document) >= {"size", "head", "signature", "kid"}
    path = tmp_path / "checkpoint.json"
    path.write_text(printed.output)
    return path


def _stdlib_digest(prev: str, event: AuditEvent) -> str:
    """The chain's hash as anyone can recompute it with hashlib and json."""
    body = json.dumps(
        [
            prev,
            event.at.isoformat(),
            event.actor,
            event.action,
            event.subject_type,
            event.subject_id,
            event.details,
        ],
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _rechain(app: Flask, mac: Any = None) -> None:
    """Recompute every hash after whatever was deleted, as the auditor did. With ``mac``
    (someone who also holds the data keys) the MACs are recomputed too."""
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        # the unique constraints would trip over the old values: clear them first
        db.session.execute(text("UPDATE audit_events SET prev_hash = 'x' || id, hash = 'y' || id"))
        prev = "0" * 64
        for row in rows:
            digest = _stdlib_digest(prev, row)
            db.session.execute(
                text("UPDATE audit_events SET prev_hash = :p, hash = :h WHERE id = :i"),
                {"p": prev, "h": digest, "i": row.id},
            )
            if mac is not None:
                db.session.execute(
                    text("UPDATE audit_events SET mac = :m WHERE id = :i"),
                    {"m": mac(digest, row.mac.partition(":")[0]), "i": row.id},
                )
            prev = digest
        db.session.commit()


def _delete(app: Flask, *ids: int) -> None:
    with app.app_context():
        for event_id in ids:
            db.session.execute(text("DELETE FROM audit_events WHERE id = :i"), {"i": event_id})
        db.session.commit()


def _first_problem(output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith("event "))


def _refused(runner: FlaskCliRunner, checkpoint: Path) -> str:
    """``audit verify --checkpoint`` fails: its whole output."""
    checked = runner.invoke(args=["audit", "verify", "--checkpoint", str(checkpoint)])
    assert checked.exit_code == 1, checked.output
    return checked.output


def test_a_deleted_event_with_the_rest_rechained_is_named(
    app: Flask, runner: FlaskCliRunner, events: list[int], tmp_path: Path
) -> None:
    saved = _checkpoint(runner, tmp_path)
    intact = runner.invoke(args=["audit", "verify", "--checkpoint", str(saved)])
    assert intact.exit_code == 0, intact.output

    _delete(app, events[3])
    _rechain(app)

    plain = runner.invoke(args=["audit", "verify"])
    assert plain.exit_code == 1
    assert _first_problem(plain.output).startswith(f"event {events[4]}: ")
    output = _refused(runner, saved)
    first = _first_problem(output)
    assert first.startswith(f"event {events[4]}: "), output
    assert "rewritten" in first


def test_a_truncated_log_fails_against_an_earlier_checkpoint(
    app: Flask, runner: FlaskCliRunner, events: list[int], tmp_path: Path
) -> None:
    saved = _checkpoint(runner, tmp_path)
    _delete(app, events[6], events[7])
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0  # nothing inside is wrong
    output = _refused(runner, saved)
    first = _first_problem(output)
    assert first.startswith(f"event {events[6]}: missing"), output
    assert "truncated" in first


def test_a_chain_rewritten_with_the_keys_fails_against_the_checkpoint(
    app: Flask, runner: FlaskCliRunner, events: list[int], tmp_path: Path
) -> None:
    from certificate.audit import _mac

    saved = _checkpoint(runner, tmp_path)
    _delete(app, events[2])
    _rechain(app, mac=_mac)
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0  # consistent, keys and all
    assert "no longer extends the checkpoint" in _refused(runner, saved)


def test_an_edited_event_is_named_and_a_forged_checkpoint_refused(
    app: Flask, runner: FlaskCliRunner, events: list[int], tmp_path: Path
) -> None:
    saved = _checkpoint(runner, tmp_path)
    with app.app_context():
        db.session.execute(
            text("UPDATE audit_events SET actor = 'someone else' WHERE id = :i"), {"i": events[5]}
        )
        db.session.commit()
    assert _first_problem(_refused(runner, saved)).startswith(f"event {events[5]}: content changed")

    forged = json.loads(saved.read_text())
    forged["size"] = 5
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(forged))
    assert "signature does not verify" in _refused(runner, path)
