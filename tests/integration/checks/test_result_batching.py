"""Group commit of adapter results: answers arriving together share a transaction."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from certificate import jobs
from certificate.applications.models import Application
from certificate.checks import service as checks
from certificate.db import db, utcnow
from certificate.jobs import run_check
from tests.conftest import application_body

COUNTRIES = ["KE", "TH", "NG", "GB", "FR", "ES", "IN", "BR"]


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    # every agency answers after the same pause, so the answers arrive close together
    return {**app_config, "SANDBOX_LATENCY_MS": 300}


def _writes_per_commit(
    app: Flask,
    client: FlaskClient,
    auth: dict[str, str],
    counts: Callable[[str, Any], bool],
    slow_first: float,
) -> list[int]:
    """File an application naming :data:`COUNTRIES`, run every check's attempt in a thread
    of its own at once, and return how many statements that ``counts`` each commit held.
    The first such commit takes ``slow_first`` seconds (a slow fsync), so that the work
    arriving meanwhile queues up behind it."""
    body = application_body()
    body["residences"] = [
        {"country": c, "from": f"20{10 + i}-01", "to": f"20{10 + i}-12"}
        for i, c in enumerate(COUNTRIES)
    ]
    filed = client.post("/api/v1/applications", json=body, headers=auth)
    assert filed.status_code == 201, filed.get_json()
    with app.app_context():
        due = checks.due_check_ids(db.session, utcnow())
        db.session.rollback()
        engine = db.engine
    assert len(due) == len(COUNTRIES)

    per_commit: list[int] = []

    def seen(conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if counts(statement, parameters):
            conn.info["counted"] = conn.info.get("counted", 0) + 1

    def committed(conn: Any) -> None:
        if conn.info.get("counted"):
            per_commit.append(conn.info.pop("counted"))
            if len(per_commit) == 1:
                time.sleep(slow_first)

    event.listen(engine, "before_cursor_execute", seen)
    event.listen(engine, "commit", committed)

    def attempt(check_id: str) -> None:
        with app.app_context():
            run_check(check_id)

    threads = [threading.Thread(target=attempt, args=(check_id,)) for check_id in due]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return per_commit


def _assert_grouped(app: Flask, per_commit: list[int]) -> None:
    """On SQLite, where writers queue for one lock, the first commit was slow and the work
    that arrived while it ran was committed together after it (one commit each would be
    all 1s). On PostgreSQL each item has a transaction of its own (a group would take row
    locks in an order that deadlocks with an agency's answer)."""
    with app.app_context():
        batched = db.engine.dialect.name == "sqlite"
    if not batched:
        assert set(per_commit) == {1}
        return
    assert per_commit[0] == 1
    assert max(per_commit) >= len(COUNTRIES) // 2, per_commit


def test_answers_arriving_together_are_committed_together(
    app: Flask, client: FlaskClient, auth: dict[str, str]
) -> None:
    def answer(statement: str, parameters: Any) -> bool:
        return statement.startswith("UPDATE checks") and "answered" in repr(parameters)

    answers_per_commit = _writes_per_commit(app, client, auth, answer, slow_first=0.5)

    assert sum(answers_per_commit) == len(COUNTRIES)  # every answer stored, once
    _assert_grouped(app, answers_per_commit)
    with app.app_context():
        application = db.session.scalars(select(Application)).one()
        assert {c.status for c in application.checks} == {"answered"}
        assert len(application.certificates) == 1  # issued once, by one of the threads


def test_checks_starting_together_are_claimed_together(
    app: Flask, client: FlaskClient, auth: dict[str, str]
) -> None:
    """Twenty attempts starting at once (a filing's fan-out) claim their checks in a few
    transactions, not one each: on SQLite each would wait for the one write lock."""

    def claim(statement: str, _parameters: Any) -> bool:
        # a claim sets the attempt and the lease, and nothing else (an answer sets status)
        return statement.startswith("UPDATE checks SET attempts") and "status" not in statement

    claims_per_commit = _writes_per_commit(app, client, auth, claim, slow_first=0.3)

    assert sum(claims_per_commit) >= len(COUNTRIES)  # every check claimed
    _assert_grouped(app, claims_per_commit)
    with app.app_context():
        application = db.session.scalars(select(Application)).one()
        assert {c.status for c in application.checks} == {"answered"}


def test_only_the_answer_that_completes_the_application_goes_on_to_issue(
    app: Flask, client: FlaskClient, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every thread whose check became final used to try issuance, each a write of its own
    (on SQLite, one wait for the write lock each) while the one that won rendered."""
    calls: list[str] = []
    issue = jobs.issue_for

    def counted(application_id: str) -> None:
        calls.append(application_id)
        issue(application_id)

    monkeypatch.setattr(jobs, "issue_for", counted)

    def answer(statement: str, parameters: Any) -> bool:
        return statement.startswith("UPDATE checks") and "answered" in repr(parameters)

    assert sum(_writes_per_commit(app, client, auth, answer, slow_first=0.2)) == len(COUNTRIES)
    with app.app_context():
        application = db.session.scalars(select(Application)).one()
        assert {c.status for c in application.checks} == {"answered"}
        assert len(application.certificates) == 1
    assert calls == [application.id]
