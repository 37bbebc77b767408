"""A certificate that cannot be issued waits on its own: retried with backoff, reported to
operators (log, metric, admin page), and never in the way of another application."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from certificate.applications.models import Application
from certificate.db import db, utcnow
from certificate.jobs import sweep
from certificate.observability import ISSUANCE_FAILURES
from tests.conftest import application_body, drain, logged
from tests.integration.agency.test_portal import login, make_user


def _file(client: FlaskClient, auth: dict[str, str], family_name: str) -> str:
    filed = client.post("/api/v1/applications", json=application_body(family_name), headers=auth)
    assert filed.status_code == 201, filed.get_json()
    return str(filed.get_json()["id"])


def _application(app: Flask, application_id: str) -> Application:
    with app.app_context():
        application = db.session.get(Application, application_id)
        assert application is not None
        db.session.expunge(application)
        return application


def test_a_failing_issuance_is_retried_alone_and_reported(
    app: Flask, client: FlaskClient, auth: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    broken = _file(client, auth, "Broken")
    with app.app_context():  # stored data issuance cannot print: the renderer refuses it
        application = db.session.get(Application, broken)
        assert application is not None
        application.language = "xx"
        db.session.commit()
    later = _file(client, auth, "Later")  # filed after the broken one

    failures_before = ISSUANCE_FAILURES._value.get()
    with logged(caplog, "certificate.jobs"):
        drain(app)
    done = client.get(f"/api/v1/applications/{later}", headers=auth).get_json()
    assert done["status"] == "complete"
    assert done["certificate"] is not None
    stuck = _application(app, broken)
    assert (stuck.status, stuck.issuance_failures) == ("in_progress", 1)
    assert "'xx'" in (stuck.issuance_error or "")  # the error names the bad language
    assert stuck.issuance_retry_at is not None
    assert stuck.issuance_retry_at > utcnow()
    assert any(broken in message for message in caplog.messages)
    assert ISSUANCE_FAILURES._value.get() == failures_before + 1
    assert "ipc_issuance_failures_total" in client.get("/metrics").get_data(as_text=True)

    # not retried before its time
    with app.app_context():
        sweep()
    assert _application(app, broken).issuance_failures == 1

    make_user(app, "admin@example.org", "admin")
    page = login(app, "admin@example.org").get("/admin/checks").get_data(as_text=True)
    assert broken[:8].upper() in page
    assert "&#39;xx&#39;" in page or "'xx'" in page

    # once the data is put right, the next due retry issues it
    with app.app_context():
        application = db.session.get(Application, broken)
        assert application is not None
        application.language = "en"
        db.session.commit()
    with time_machine.travel(utcnow() + timedelta(hours=1), tick=False), app.app_context():
        sweep()
    issued = client.get(f"/api/v1/applications/{broken}", headers=auth).get_json()
    assert issued["status"] == "complete"
    assert issued["certificate"] is not None


def test_the_pdf_is_made_outside_any_transaction_and_a_withdrawal_meanwhile_wins(
    app: Flask,
    client: FlaskClient,
    auth: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issuance renders and signs the PDF holding no lock; recording it checks the
    application still owes it, so a withdrawal during rendering issues nothing."""
    import certificate.jobs as jobs
    from certificate.issuance.models import Certificate
    from certificate.issuance.service import pending_pdf_name
    from certificate.runtime import runtime

    def _stored(name: str) -> bool:
        try:
            runtime().files.get(name)
        except FileNotFoundError:
            return False
        return True

    application_id = _file(client, auth, "Meanwhile")
    real_produce = jobs.produce
    seen: dict[str, object] = {}

    def produce_then_withdraw(prepared: object, **kwargs: object) -> bytes:
        seen["in_transaction"] = db.session().in_transaction()
        pdf = real_produce(prepared, **kwargs)  # type: ignore[arg-type]
        seen["pending"] = _stored(pending_pdf_name(prepared.certificate_id))  # type: ignore[attr-defined]
        seen["id"] = prepared.certificate_id  # type: ignore[attr-defined]
        withdrawn = client.post(f"/api/v1/applications/{application_id}/withdraw", headers=auth)
        assert withdrawn.status_code == 200, withdrawn.get_json()
        return pdf

    monkeypatch.setattr(jobs, "produce", produce_then_withdraw)
    drain(app)
    assert seen["in_transaction"] is False
    assert seen["pending"] is True
    with app.app_context():
        assert db.session.get(Certificate, seen["id"]) is None
        assert not _stored(pending_pdf_name(str(seen["id"])))
        application = db.session.get(Application, application_id)
        assert application is not None
        assert application.status == "withdrawn"


def test_one_worker_renders_a_certificate_and_the_others_leave_it(
    app: Flask, client: FlaskClient, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every process's sweeper, and the thread that records the last answer, call
    ``issue_for``: the worker holding the claim renders, the others skip; a claim left by
    a worker that died is taken over once it has passed."""
    from certificate import jobs

    renders: list[str] = []
    render = jobs.produce

    def counted(prepared: object, **options: object) -> bytes:
        renders.append(str(getattr(prepared, "certificate_id", "")))
        return render(prepared, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(jobs, "produce", counted)
    claimed = _file(client, auth, "Claimed")
    with app.app_context():
        jobs.issue_for(claimed)  # nothing owed yet (checks queued): no claim is left behind
        assert _application(app, claimed).issuance_retry_at is None
        application = db.session.get(Application, claimed)
        assert application is not None
        application.issuance_retry_at = utcnow() + jobs.ISSUANCE_CLAIM  # another worker's
        db.session.commit()
    drain(app)  # the checks are answered; every attempt to issue leaves it to its holder
    assert _application(app, claimed).status == "in_progress"
    assert renders == []

    with time_machine.travel(utcnow() + jobs.ISSUANCE_CLAIM + timedelta(seconds=5)):
        drain(app)  # that worker died: its claim has passed
    done = _application(app, claimed)
    assert done.status == "complete"
    assert done.issuance_retry_at is None
    assert len(renders) == 1
