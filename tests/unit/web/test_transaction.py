"""The transactional view wrapper: one commit on success, a rollback and a mapped answer on error."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select
from werkzeug.exceptions import Conflict

from certificate.audit import AuditEvent, record_event
from certificate.db import db
from certificate.web.transaction import after_commit, discard, transactional


class Taken(Exception):
    """A domain error the view does not catch."""


def _events(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def test_a_view_commits_once_or_rolls_back_and_answers(app: Flask) -> None:
    ran: list[str] = []

    @app.post("/test/<outcome>")
    @transactional({Taken: lambda exc: Conflict(f"taken: {exc}")})
    def write(outcome: str) -> str:
        record_event(
            db.session, actor="test", action="test.write", subject_type="t", subject_id="1"
        )
        after_commit(lambda: ran.append(outcome))
        if outcome == "taken":
            raise Taken("already")
        if outcome == "bug":
            raise RuntimeError("a bug")
        return "written"

    client = app.test_client()
    assert client.post("/test/ok").get_data(as_text=True) == "written"
    assert (_events(app), ran) == (1, ["ok"])

    refused = client.post("/test/taken")
    assert refused.status_code == 409
    assert "taken: already" in refused.get_data(as_text=True)
    assert (_events(app), ran) == (1, ["ok"])  # rolled back, nothing run after commit

    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.post("/test/bug").status_code == 500
    assert (_events(app), ran) == (1, ["ok"])


def test_what_must_be_kept_is_committed_even_when_the_request_is_refused(app: Flask) -> None:
    @app.post("/test/spend")
    @transactional({Taken: lambda _: Conflict("refused")}, commit_on_error=True)
    def spend() -> str:
        record_event(
            db.session, actor="test", action="test.spent", subject_type="t", subject_id="1"
        )
        raise Taken

    assert app.test_client().post("/test/spend").status_code == 409
    assert _events(app) == 1


def test_a_view_discards_its_changes_and_answers_with_a_page(app: Flask) -> None:
    @app.post("/test/form/<outcome>")
    @transactional({Taken: lambda exc: (f"mapped: {exc}", 404)})
    def form(outcome: str) -> str:
        record_event(db.session, actor="test", action="test.form", subject_type="t", subject_id="1")
        if outcome == "objection":
            discard("the form again, with the objection", 409)
        raise Taken("no such code")

    client = app.test_client()
    shown = client.post("/test/form/objection")
    assert (shown.status_code, shown.get_data(as_text=True)) == (
        409,
        "the form again, with the objection",
    )
    mapped = client.post("/test/form/mapped")
    assert (mapped.status_code, mapped.get_data(as_text=True)) == (404, "mapped: no such code")
    assert _events(app) == 0
