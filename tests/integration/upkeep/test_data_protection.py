"""Encryption at rest, the audit chain, and what never reaches the logs."""

from __future__ import annotations

import logging
import stat
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import inspect, select, text

from certificate.audit import AuditEvent
from certificate.db import db
from certificate.encryption import keyring
from tests.conftest import application_body, drain, logged

DOCUMENT_CANARY = "CANARY7731"
RECORD_CANARY = "Sexual assault of a child (sandbox record)"


def _dump(app: Flask) -> str:
    """Every row of every table as text, as a database dump would show it."""
    with app.app_context():
        lines = []
        for table in inspect(db.engine).get_table_names():
            for row in db.session.execute(text(f'SELECT * FROM "{table}"')):  # noqa: S608
                lines.append(f"{table}: {tuple(row)!r}")
        return "\n".join(lines)


@pytest.fixture
def filed(app: Flask, client: FlaskClient, auth: dict[str, str]) -> dict[str, Any]:
    body = application_body("RECORDHOLDER")
    body["applicant"]["identity_document"]["number"] = DOCUMENT_CANARY
    created = client.post("/api/v1/applications", json=body, headers=auth).get_json()
    drain(app)
    return client.get(f"/api/v1/applications/{created['id']}", headers=auth).get_json()


def test_a_database_dump_holds_no_document_number_or_record_details(
    app: Flask, filed: dict[str, Any]
) -> None:
    assert filed["status"] == "complete"
    dump = _dump(app)
    assert "RECORDHOLDER" in dump  # the dump is real: unencrypted fields are there
    assert DOCUMENT_CANARY not in dump
    assert RECORD_CANARY not in dump
    assert "enc:v2:" in dump


def test_values_are_bound_to_their_column(app: Flask, filed: dict[str, Any]) -> None:
    from certificate.encryption import DecryptionError

    with app.app_context():
        sealed = db.session.execute(text("SELECT document_number FROM applications")).scalar_one()
        with pytest.raises(DecryptionError):
            keyring().open(sealed, "checks.records")
        assert keyring().open(sealed, "applications.document_number") == DOCUMENT_CANARY.encode()


def test_data_keys_rotate_and_everything_is_resealed(
    app: Flask, runner: FlaskCliRunner, filed: dict[str, Any]
) -> None:
    old = keyring().current
    rotated = runner.invoke(args=["keys", "rotate-data"])
    assert rotated.exit_code == 0, rotated.output
    new = rotated.output.strip().splitlines()[-1]
    assert new != old
    resealed = runner.invoke(args=["data", "reencrypt"])
    assert resealed.exit_code == 0, resealed.output
    with app.app_context():
        values = [v for (v,) in db.session.execute(text("SELECT records FROM checks"))]
        values.append(
            db.session.execute(text("SELECT document_number FROM applications")).scalar_one()
        )
        assert {keyring().key_id(v) for v in values} == {new}
        from certificate.applications.models import Application

        assert db.session.scalars(select(Application)).one().document_number == DOCUMENT_CANARY


def test_audit_verify_detects_an_edited_or_deleted_event(
    app: Flask, runner: FlaskCliRunner, filed: dict[str, Any]
) -> None:
    intact = runner.invoke(args=["audit", "verify"])
    assert intact.exit_code == 0, intact.output
    assert "intact" in intact.output
    with app.app_context():
        ids = db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()
        db.session.execute(
            text("UPDATE audit_events SET actor = 'someone else' WHERE id = :i"), {"i": ids[2]}
        )
        db.session.commit()
    edited = runner.invoke(args=["audit", "verify"])
    assert edited.exit_code == 1
    assert f"event {ids[2]}: content changed" in edited.output
    with app.app_context():
        db.session.execute(
            text("UPDATE audit_events SET actor = 'system' WHERE id = :i"), {"i": ids[2]}
        )
        db.session.execute(text("DELETE FROM audit_events WHERE id = :i"), {"i": ids[4]})
        db.session.commit()
    deleted = runner.invoke(args=["audit", "verify"])
    assert deleted.exit_code == 1
    assert f"event {ids[5]}: previous event missing or changed" in deleted.output


def test_record_content_and_tokens_never_reach_the_logs(
    app: Flask, client: FlaskClient, auth: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = application_body("RECORDHOLDER")
    body["applicant"]["identity_document"]["number"] = DOCUMENT_CANARY
    with logged(caplog, "certificate"):  # the service's own loggers, whatever ran before
        created = client.post("/api/v1/applications", json=body, headers=auth).get_json()
        drain(app)
        done = client.get(f"/api/v1/applications/{created['id']}", headers=auth).get_json()
        token = done["certificate"]["verify_url"].split("#", 1)[1]
        client.post("/api/v1/verify", json={"token": token})
        client.post("/api/v1/verify", json={"token": token + "x"})
    written = "\n".join(record.getMessage() for record in caplog.records)
    written += "\n".join(str(record.__dict__) for record in caplog.records)
    assert caplog.records, "the service logs something, or this test proves nothing"
    for secret in (DOCUMENT_CANARY, RECORD_CANARY, token, auth["Authorization"].split()[1]):
        assert secret not in written


# --- audit finding 3: the fact of a conviction at rest


def _raw_copy(app: Flask) -> bytes:
    """What a thief holds: the database's bytes and every file of the instance folder but
    the data keys (kept in a secret store in production)."""
    instance = Path(app.instance_path)
    stolen = [
        path.read_bytes()
        for path in instance.rglob("*")
        if path.is_file() and path.name != "data-keys.json"
    ]
    with app.app_context():
        url = db.engine.url
        if url.get_backend_name() == "sqlite":
            database = Path(str(url.database))  # the file, its WAL and shared memory
            stolen += [p.read_bytes() for p in database.parent.glob(database.name + "*")]
        else:
            stolen.append(_dump(app).encode())
    return b"\n".join(stolen)


def _file(app: Flask, client: FlaskClient, auth: dict[str, str], family: str) -> dict[str, Any]:
    body = application_body(family)
    created = client.post("/api/v1/applications", json=body, headers=auth).get_json()
    drain(app)
    done = client.get(f"/api/v1/applications/{created['id']}", headers=auth).get_json()
    assert done["status"] == "complete", done
    return dict(done)


def test_a_copy_without_the_keys_reveals_no_outcome_record_or_certificate(
    app: Flask, client: FlaskClient, auth: dict[str, str]
) -> None:
    convicted = _file(app, client, auth, "RECORDHOLDER")
    clear = _file(app, client, auth, "Okafor")
    assert {c["outcome"] for c in convicted["checks"]} == {"record_found"}
    assert {c["outcome"] for c in clear["checks"]} == {"no_record"}
    pdf = client.get(convicted["certificate"]["pdf_url"], headers=auth)
    assert pdf.data.startswith(b"%PDF-")  # the owner still gets the document
    token = convicted["certificate"]["verify_url"].split("#", 1)[1]
    claims = client.post("/api/v1/verify", json={"token": token}).get_json()["certificate"]

    stolen = _raw_copy(app)
    assert b"RECORDHOLDER" in stolen  # the copy is real: the applicant's name is in it
    for secret in (
        b"record_found",
        b"no_record",
        RECORD_CANARY.encode(),
        b"Sandbox High Court",
        token.encode(),
        token.split(".")[1].encode(),  # the signed claims
        b"%PDF-",  # no certificate document in clear
    ):
        assert secret not in stolen, secret
    assert claims is not None


def test_sealed_values_do_not_tell_outcomes_apart_by_length(
    app: Flask, client: FlaskClient, auth: dict[str, str]
) -> None:
    _file(app, client, auth, "RECORDHOLDER")
    _file(app, client, auth, "NOMATCHIA")
    _file(app, client, auth, "Okafor")
    with app.app_context():
        outcomes = {len(v) for (v,) in db.session.execute(text("SELECT outcome FROM checks"))}
        records = {len(v) for (v,) in db.session.execute(text("SELECT records FROM checks"))}
        tokens = {len(v) for (v,) in db.session.execute(text("SELECT token FROM certificates"))}
        answered = db.session.execute(
            text("SELECT details FROM audit_events WHERE action = 'check.answered'")
        ).all()
    assert len(outcomes) == 1
    assert len(records) == 1
    assert len(tokens) == 1
    assert len({len(v) for (v,) in answered}) == 1


def test_the_database_and_instance_files_are_private(
    app: Flask, client: FlaskClient, auth: dict[str, str]
) -> None:
    _file(app, client, auth, "RECORDHOLDER")
    instance = Path(app.instance_path)
    assert stat.S_IMODE(instance.stat().st_mode) == 0o700
    documents = list((instance / "certificates").iterdir())
    assert documents
    for path in documents:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    with app.app_context():
        url = db.engine.url
        if url.get_backend_name() != "sqlite":
            return
        database = Path(str(url.database))
    files = list(database.parent.glob(database.name + "*"))
    assert any(p.name.endswith("-wal") for p in files)
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
