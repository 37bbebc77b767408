"""The verification path writes nothing itself: history rows are buffered, written in one
batch, kept on a failed write, and then chained into the audit log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, func, select

from certificate.audit import AuditEvent, verify_chain
from certificate.db import db
from certificate.issuance.models import CertificateVerification
from certificate.runtime import runtime
from certificate.verify.history import HistoryBuffer
from tests.conftest import application_body, drain


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    # the writer thread would wait an hour: the test decides when rows are written
    return {**app_config, "VERIFY_HISTORY_SECONDS": 3600}


@pytest.fixture
def token(app: Flask, client: FlaskClient, auth: dict[str, str]) -> str:
    created = client.post("/api/v1/applications", json=application_body(), headers=auth)
    drain(app)
    certificate = client.get(f"/api/v1/applications/{created.get_json()['id']}", headers=auth)
    return str(certificate.get_json()["certificate"]["verify_url"].split("#", 1)[1])


def _statements(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement run from now on: through SQLAlchemy on the app's engine, and on
    the driver's own cursor by the verification reader."""
    from certificate.verify import lookup

    seen: list[str] = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
        event.listen(db.engine, "commit", lambda *_: seen.append("COMMIT"))
    reading = lookup.fetch

    def spy(engine: Any, statement: Any, values: Any, **options: Any) -> Any:
        seen.append(statement.sql)
        return reading(engine, statement, values, **options)

    monkeypatch.setattr(lookup, "fetch", spy)
    return seen


def _written(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count(CertificateVerification.id))) or 0)


def test_verifications_write_nothing_until_one_batch(
    app: Flask, client: FlaskClient, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    statements = _statements(app, monkeypatch)
    for _ in range(20):
        answer = client.post("/api/v1/verify", json={"token": token})
        assert answer.get_json()["status"] == "valid"
    assert statements, "the reads were not seen"
    writes = [s for s in statements if not s.lstrip().upper().startswith(("SELECT", "PRAGMA"))]
    assert writes == []  # no BEGIN, INSERT or COMMIT on the request path
    assert _written(app) == 0

    with app.app_context():
        history = runtime().verifier.history
        assert history.pending() == 20
        recorded = history.waiting()
        assert history.flush() == 20
        postgresql = db.engine.dialect.name == "postgresql"
    assert statements.count("COMMIT") == 1  # one transaction
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    # one multi-row statement; on PostgreSQL a COPY on the driver's cursor instead
    assert len(inserts) == (0 if postgresql else 1)
    assert _written(app) == 20
    with app.app_context():
        stored = db.session.execute(
            select(
                CertificateVerification.certificate_id,
                CertificateVerification.verified_at,
                CertificateVerification.method,
                CertificateVerification.result,
                CertificateVerification.organisation,
            ).order_by(CertificateVerification.id)
        ).all()
    expected = [(r["certificate_id"], r["verified_at"], "token", "valid", None) for r in recorded]
    assert [tuple(row) for row in stored] == expected  # aware UTC times, as recorded

    drain(app)  # the sweeper seals them into the audit log: one event for the batch
    with app.app_context():
        sealed = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "certificate.verifications")
        ).all()
        assert [event.details["count"] for event in sealed] == [20]
        rows = db.session.scalars(select(CertificateVerification)).all()
        assert {row.audit_event_id for row in rows} == {sealed[0].id}
        assert verify_chain(db.session) == []


@pytest.mark.parametrize("tamper", ["change", "delete"])
def test_a_sealed_verification_changed_or_deleted_is_named_by_audit_verify(
    app: Flask, client: FlaskClient, token: str, tamper: str
) -> None:
    for _ in range(3):
        client.post("/api/v1/verify", json={"token": token})
    with app.app_context():
        runtime().verifier.history.flush()
    drain(app)
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "certificate.verifications")
        ).one()
        row = db.session.scalars(select(CertificateVerification)).first()
        assert row is not None
        if tamper == "change":
            row.result = "revoked"
        else:
            db.session.delete(row)
        db.session.commit()
        assert verify_chain(db.session) == [
            f"event {event.id}: the verifications it seals were changed or deleted"
        ]


def test_a_failed_write_keeps_the_rows_for_the_next_try(
    app: Flask, client: FlaskClient, token: str, tmp_path: Path
) -> None:
    client.post("/api/v1/verify", json={"token": token})
    with app.app_context():
        rows = runtime().verifier.history.waiting()
        real = db.engine
    empty = create_engine(f"sqlite:///{tmp_path / 'no-tables.sqlite3'}")
    target = [empty]
    buffer = HistoryBuffer(lambda: target[0], interval=3600)
    for row in rows:
        buffer.record(
            row["certificate_id"], row["verified_at"], row["method"], row["result"], "Acme"
        )
    with pytest.raises(Exception, match="certificate_verifications"):
        buffer.flush()
    assert buffer.pending() == 1
    target[0] = real
    assert buffer.flush() == 1
    assert buffer.pending() == 0
    assert _written(app) == 1
    empty.dispose()
    buffer.close()


def test_the_holder_sees_verifications_not_yet_written(
    app: Flask, client: FlaskClient, token: str
) -> None:
    client.post("/api/v1/verify", json={"token": token, "organisation": "  Greenfield   School "})
    with app.app_context():
        verifier = runtime().verifier
        claims_id = verifier.history.waiting()[0]["certificate_id"]
        from certificate.verify.service import verification_history

        shown = verification_history(db.session, verifier.history, [claims_id])
        assert [(r.method, r.result, r.organisation) for r in shown] == [
            ("token", "valid", "Greenfield School")
        ]
        assert verification_history(db.session, verifier.history, ["someone-else"]) == []


def test_a_row_committed_inside_a_batchs_range_is_left_for_the_next(
    app: Flask, client: FlaskClient, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ids are drawn before their transactions commit: a row can appear inside the range
    of a batch being sealed. The batch seals exactly the rows it read; the other waits."""
    from certificate.verify import service

    for _ in range(3):
        client.post("/api/v1/verify", json={"token": token})
    with app.app_context():
        runtime().verifier.history.flush()
        rows = db.session.scalars(select(CertificateVerification)).all()
        late = {c.name: getattr(rows[1], c.name) for c in CertificateVerification.__table__.c}
        db.session.delete(rows[1])  # its id is free, inside the range of the other two
        db.session.commit()
    sealing = service.record_event

    def a_row_arrives_meanwhile(session: Any, **event: Any) -> Any:
        session.execute(CertificateVerification.__table__.insert().values(**late))
        return sealing(session, **event)

    monkeypatch.setattr(service, "record_event", a_row_arrives_meanwhile)
    with app.app_context():
        assert service.chain_verifications(db.session) == 2
        db.session.commit()
        monkeypatch.setattr(service, "record_event", sealing)
        marks = dict(
            db.session.execute(
                select(CertificateVerification.id, CertificateVerification.audit_event_id)
            ).all()
        )
        assert marks[late["id"]] is None
        assert len({mark for mark in marks.values() if mark is not None}) == 1
        assert service.chain_verifications(db.session) == 1
        db.session.commit()
        assert verify_chain(db.session) == []
