"""Admin pages about failed checks: list, retry, answer by hand; admins only.

An answer by hand takes effect once a second admin approves it; the two-person
rule itself is tested in test_two_person.py.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from certificate.admin.models import PendingAction
from certificate.checks.models import Check
from certificate.db import db, utcnow
from tests.conftest import drain
from tests.integration.agency.test_portal import (
    RECORDS,
    actions,
    certificate_outcomes_and_text,
    check_of,
    csrf_from,
    file_application,
    login,
    login_with_token,
    make_user,
    signup_and_token_again,
)

LAST_ERROR = "agency answered HTTP 500 three times"
CONFIRM = "Confirm — ask for approval"


def approve_all(app: Flask, approver: FlaskClient) -> None:
    """A second admin approves every pending action through the approvals page."""
    with app.app_context():
        ids = list(
            db.session.scalars(select(PendingAction.id).where(PendingAction.decision.is_(None)))
        )
    for action_id in ids:
        assert approver.post(f"/admin/approvals/{action_id}/approve").status_code == 303


def fail(app: Flask, application_id: str, *countries: str) -> None:
    """Make checks ``failed`` directly in the database, as exhausted retries would."""
    with app.app_context():
        for country in countries:
            check = db.session.scalars(
                select(Check).where(
                    Check.application_id == application_id, Check.country == country
                )
            ).one()
            check.status = "failed"
            check.attempts = 5
            check.next_attempt_at = None
            check.last_error = LAST_ERROR
        db.session.commit()


@pytest.fixture
def failed(app: Flask, client: FlaskClient) -> dict[str, Any]:
    """An application whose KE and TH checks failed (NG is answered by the sandbox); an admin."""
    application_id = file_application(client)
    fail(app, application_id, "KE", "TH")
    drain(app)
    admin_id = make_user(app, "admin@example.org", "admin")
    return {
        "application": application_id,
        "ke": check_of(app, application_id, "KE").id,
        "th": check_of(app, application_id, "TH").id,
        "admin_id": admin_id,
        "admin": login(app, "admin@example.org"),
    }


def test_failed_checks_are_listed_without_personal_data(app: Flask, failed: dict[str, Any]) -> None:
    page = failed["admin"].get("/admin/checks")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Kenya" in html
    assert "Thailand" in html
    assert "Nigeria" not in html  # answered, not failed
    assert LAST_ERROR in html
    assert f"/admin/checks/{failed['ke']}/retry" in html
    assert f"/admin/checks/{failed['th']}/answer" in html
    for personal in ("Okafor", "Ada", "1990-04-17", "A1234567"):
        assert personal not in html.replace("admin", "")  # the admin's own name aside
    assert 'href="/admin/checks"' in html  # the navigation link


def test_retry_puts_a_failed_check_back_in_the_queue(
    app: Flask, client: FlaskClient, failed: dict[str, Any]
) -> None:
    before = utcnow()
    response = failed["admin"].post(f"/admin/checks/{failed['ke']}/retry")
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/checks"
    check = check_of(app, failed["application"], "KE")
    assert check.status == "queued"
    assert check.next_attempt_at is not None
    assert before - timedelta(seconds=1) <= check.next_attempt_at <= utcnow()
    assert ("check.retried", f"user:{failed['admin_id']}") in [
        (a, actor) for a, actor, _ in actions(app, failed["ke"])
    ]
    # retrying what is no longer failed is a 404
    assert failed["admin"].post(f"/admin/checks/{failed['ke']}/retry").status_code == 404

    drain(app)  # the sandbox answers this time
    check = check_of(app, failed["application"], "KE")
    assert (check.status, check.outcome) == ("answered", "no_record")
    assert failed["ke"] not in failed["admin"].get("/admin/checks").get_data(as_text=True)


def test_answer_by_hand_with_reason_and_confirmation(
    app: Flask, client: FlaskClient, failed: dict[str, Any]
) -> None:
    admin, th = failed["admin"], failed["th"]
    path = f"/admin/checks/{th}/answer"
    form = admin.get(path)
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    assert "Why you are answering by hand" in html
    assert "Okafor" not in html

    no_reason = admin.post(path, data={**RECORDS, "confirm": "1"})
    assert no_reason.status_code == 400
    assert "Reason</a>: is required" in no_reason.get_data(as_text=True)
    bad = admin.post(path, data={"outcome": "record_found", "reason": "letter", "confirm": "1"})
    assert bad.status_code == 400
    assert "required and non-empty for record_found" in bad.get_data(as_text=True)
    assert check_of(app, failed["application"], "TH").status == "failed"

    reason = "Endpoint down for a week; the answer came by registered letter 2026/118"
    preview = admin.post(path, data={**RECORDS, "reason": reason})
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert CONFIRM in html
    assert "Theft of a bicycle" in html
    assert check_of(app, failed["application"], "TH").status == "failed"

    done = admin.post(path, data={**RECORDS, "reason": reason, "confirm": "1"})
    assert done.status_code == 303
    assert check_of(app, failed["application"], "TH").status == "failed"  # until approved
    make_user(app, "second.admin@example.org", "admin")
    approve_all(app, login(app, "second.admin@example.org"))
    check = check_of(app, failed["application"], "TH")
    assert (check.status, check.outcome, len(check.records)) == ("answered", "record_found", 2)
    by_hand = [e for e in actions(app, th) if e[0] == "check.answered_by_hand"]
    assert by_hand == [
        (
            "check.answered_by_hand",
            f"user:{failed['admin_id']}",
            {
                "country": "TH",
                "outcome": "record_found",
                "reason": reason,
                "approved_by": by_hand[0][2]["approved_by"],
            },
        )
    ]
    assert by_hand[0][2]["approved_by"] != f"user:{failed['admin_id']}"
    assert admin.post(path, data={**RECORDS, "reason": reason, "confirm": "1"}).status_code == 404

    # the remaining failed check is retried; the certificate shows the hand-entered records
    assert admin.post(f"/admin/checks/{failed['ke']}/retry").status_code == 303
    drain(app)
    outcomes, text = certificate_outcomes_and_text(
        client, failed["application"], signup_and_token_again(client)
    )
    assert outcomes == {"KE": "no_record", "TH": "record_found", "NG": "no_record"}
    assert "Theft of a bicycle" in text
    assert "Driving without a licence" in text


def test_only_admins_see_failed_checks(
    app: Flask, client: FlaskClient, failed: dict[str, Any]
) -> None:
    ke = failed["ke"]
    anonymous = app.test_client()
    for path in ("/admin/checks", f"/admin/checks/{ke}/answer"):
        response = anonymous.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")
    assert anonymous.post(f"/admin/checks/{ke}/retry").status_code == 302

    make_user(app, "officer.ke@example.org", "agency-officer", "KE")
    applicant = app.test_client()
    applicant.post("/login", data={"email": "ada@example.org", "password": "correct horse battery"})
    for other in (applicant, login(app, "officer.ke@example.org")):
        assert other.get("/admin/checks").status_code == 403
        assert other.get(f"/admin/checks/{ke}/answer").status_code == 403
        assert other.post(f"/admin/checks/{ke}/retry").status_code == 403
        assert (
            other.post(
                f"/admin/checks/{ke}/answer",
                data={"outcome": "no_record", "reason": "x", "confirm": "1"},
            ).status_code
            == 403
        )
    assert check_of(app, failed["application"], "KE").status == "failed"
    assert failed["admin"].get("/admin/checks/no-such-check/answer").status_code == 404


def test_admin_forms_need_a_csrf_token(
    app_config: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    app_config["WTF_CSRF_ENABLED"] = True
    app: Flask = request.getfixturevalue("app")
    application_id = file_application(app.test_client())
    fail(app, application_id, "KE", "TH")
    make_user(app, "admin@example.org", "admin")
    admin = login_with_token(app, "admin@example.org")
    ke, th = check_of(app, application_id, "KE").id, check_of(app, application_id, "TH").id

    assert admin.post(f"/admin/checks/{ke}/retry").status_code == 400
    assert (
        admin.post(
            f"/admin/checks/{th}/answer",
            data={"outcome": "no_record", "reason": "letter", "confirm": "1"},
        ).status_code
        == 400
    )
    assert check_of(app, application_id, "KE").status == "failed"
    assert check_of(app, application_id, "TH").status == "failed"

    token = csrf_from(admin.get("/admin/checks").get_data(as_text=True))
    assert admin.post(f"/admin/checks/{ke}/retry", data={"csrf_token": token}).status_code == 303
    assert check_of(app, application_id, "KE").status == "queued"
