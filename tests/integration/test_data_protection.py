"""Encryption at rest, the audit chain, and what never reaches the logs."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import inspect, select, text

from certificate.audit import AuditEvent
from certificate.db import db
from certificate.encryption import keyring
from tests.conftest import application_body, drain

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
    assert "enc:v1:" in dump


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
    created = client.post("/api/v1/applications", json=body, headers=auth).get_json()
    drain(app)
    done = client.get(f"/api/v1/applications/{created['id']}", headers=auth).get_json()
    token = done["certificate"]["verify_url"].split("#", 1)[1]
    client.post("/api/v1/verify", json={"token": token})
    client.post("/api/v1/verify", json={"token": token + "x"})
    logged = "\n".join(record.getMessage() for record in caplog.records)
    logged += "\n".join(str(record.__dict__) for record in caplog.records)
    assert caplog.records, "the service logs something, or this test proves nothing"
    for secret in (DOCUMENT_CANARY, RECORD_CANARY, token, auth["Authorization"].split()[1]):
        assert secret not in logged
