"""The verification path writes nothing itself: history rows are buffered, written in one
batch that is sealed into the audit log in the same transaction, and kept on a failed
write."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, func, select

from certificate.audit import AuditEvent, verify_chain
from certificate.db import db, utcnow
from certificate.issuance.models import Certificate, CertificateVerification
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


def _certificate_of(app: Flask) -> str:
    """The id of the one certificate issued (the one ``token`` names)."""
    with app.app_context():
        return str(db.session.scalars(select(Certificate.id)).one())


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
    assert len([s for s in inserts if "certificate_verifications" in s]) == (0 if postgresql else 1)
    assert len([s for s in inserts if "audit_events" in s]) == 1  # the batch's seal
    assert not [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
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

    with app.app_context():  # written sealed: one event for the batch, no sweep needed
        sealed = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "certificate.verifications")
        ).all()
        assert [event.details["count"] for event in sealed] == [20]
        rows = db.session.scalars(select(CertificateVerification)).all()
        assert {row.audit_event_id for row in rows} == {sealed[0].id}
        ids = sorted(row.id for row in rows)
        assert (sealed[0].details["first"], sealed[0].details["last"]) == (ids[0], ids[-1])
        assert sealed[0].subject_id == f"{ids[0]}-{ids[-1]}"
        assert verify_chain(db.session) == []
    drain(app)  # the sweeper finds nothing left to seal
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count(AuditEvent.id)).where(
                    AuditEvent.action == "certificate.verifications"
                )
            )
            == 1
        )


@pytest.mark.usefixtures("token")  # a certificate issued
def test_batches_written_together_by_several_processes_keep_one_chain(app: Flask) -> None:
    """Each web process has a writer of its own: batches written at the same moment draw
    distinct ids, and their events follow one another in the chain."""
    with app.app_context():
        row = {
            "certificate_id": _certificate_of(app),
            "method": "token",
            "result": "valid",
            "organisation": None,
        }
        engine = db.engine
    buffers = [HistoryBuffer(lambda: engine, interval=3600) for _ in range(4)]
    start = threading.Barrier(len(buffers))

    def write(buffer: HistoryBuffer) -> None:
        for round_ in range(5):
            for _ in range(round_ + 1):
                buffer.record(**row, verified_at=utcnow())
            start.wait(timeout=10)
            assert buffer.flush() == round_ + 1

    threads = [threading.Thread(target=write, args=(b,)) for b in buffers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for buffer in buffers:
        buffer.close()
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "certificate.verifications")
        ).all()
        assert len(events) == 20
        rows = db.session.scalars(select(CertificateVerification)).all()
        assert len(rows) == 4 * (1 + 2 + 3 + 4 + 5)
        assert all(r.audit_event_id is not None for r in rows)
        assert verify_chain(db.session) == []


@pytest.mark.parametrize("tamper", ["change", "delete"])
def test_a_sealed_verification_changed_or_deleted_is_named_by_audit_verify(
    app: Flask, client: FlaskClient, token: str, tamper: str
) -> None:
    for _ in range(3):
        client.post("/api/v1/verify", json={"token": token})
    with app.app_context():
        runtime().verifier.history.flush()
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


def _unsealed(app: Flask, count: int) -> list[int]:
    """Rows written without an audit event, as versions that left sealing to the sweeper
    wrote them; returns their ids."""
    certificate_id = _certificate_of(app)
    with app.app_context():
        table = CertificateVerification.__table__
        ids = [
            db.session.execute(
                table.insert().values(
                    certificate_id=certificate_id,
                    verified_at=utcnow(),
                    method="number",
                    result="valid",
                    organisation=None,
                )
            ).inserted_primary_key[0]
            for _ in range(count)
        ]
        db.session.commit()
        return ids


@pytest.mark.usefixtures("token")
def test_the_sweeper_seals_rows_written_without_an_event(app: Flask) -> None:
    ids = _unsealed(app, 3)
    drain(app)
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "certificate.verifications")
        ).one()
        assert (event.details["count"], event.subject_id) == (3, f"{ids[0]}-{ids[-1]}")
        marks = db.session.scalars(select(CertificateVerification.audit_event_id)).all()
        assert marks == [event.id] * 3
        assert verify_chain(db.session) == []


@pytest.mark.usefixtures("token")
def test_a_row_committed_inside_a_batchs_range_is_left_for_the_next(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ids are drawn before their transactions commit: a row can appear inside the range
    of a batch being sealed. The batch seals exactly the rows it read; the other waits."""
    from certificate.verify import history, service

    _unsealed(app, 3)
    with app.app_context():
        rows = db.session.scalars(select(CertificateVerification)).all()
        late = {c.name: getattr(rows[1], c.name) for c in CertificateVerification.__table__.c}
        db.session.delete(rows[1])  # its id is free, inside the range of the other two
        db.session.commit()
    sealing = history.record_event

    def a_row_arrives_meanwhile(session: Any, **event: Any) -> Any:
        session.execute(CertificateVerification.__table__.insert().values(**late))
        return sealing(session, **event)

    monkeypatch.setattr(history, "record_event", a_row_arrives_meanwhile)
    with app.app_context():
        assert service.chain_verifications(db.session) == 2
        db.session.commit()
        monkeypatch.setattr(history, "record_event", sealing)
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
