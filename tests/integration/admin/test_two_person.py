"""The two-person rule: an admin's revocation, or an answer an admin enters by hand, takes
effect only when a second admin approves it.

Each test would fail if the rule broke: if a request took effect at once, if
its requester could approve it, if a non-admin could see or decide it, if an
approval could be applied twice or after its subject changed.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select, text

from certificate.admin import approvals
from certificate.admin.models import PendingAction
from certificate.auth.models import User
from certificate.db import db, utcnow
from certificate.issuance.models import Certificate
from tests.conftest import csrf_token_of, drain
from tests.integration.admin.test_admin_checks import fail
from tests.integration.agency.test_portal import (
    RECORDS,
    actions,
    certificate_outcomes_and_text,
    check_of,
    file_application,
    login,
    make_user,
    signup_and_token_again,
)

REASON = "Obtained with a forged identity document"
HAND_REASON = "The agency's endpoint is down; its answer came by registered letter 2026/118"


# --- helpers


def open_actions(app: Flask) -> list[PendingAction]:
    """Every pending action not decided yet (detached)."""
    with app.app_context():
        rows = list(
            db.session.scalars(select(PendingAction).where(PendingAction.decision.is_(None)))
        )
        for row in rows:
            db.session.expunge(row)
        return rows


def action_of(app: Flask, action_id: str) -> PendingAction:
    """One pending action as stored now (detached)."""
    with app.app_context():
        row = db.session.get(PendingAction, action_id)
        assert row is not None
        db.session.expunge(row)
        return row


def the_only_open_action(app: Flask) -> PendingAction:
    """The single action waiting for approval."""
    rows = open_actions(app)
    assert len(rows) == 1, rows
    return rows[0]


def verification(client: FlaskClient, token: str) -> str:
    """What a verifier is told about the certificate now."""
    return str(client.post("/api/v1/verify", json={"token": token}).get_json()["status"])


def revocation_reason(app: Flask, certificate_id: str) -> str | None:
    """The stored revocation reason (None while the certificate is not revoked)."""
    with app.app_context():
        row = db.session.get(Certificate, certificate_id)
        assert row is not None
        return row.revocation_reason


def names(events: list[tuple[str, str, dict[str, Any]]]) -> list[str]:
    """The actions of audit events, in order."""
    return [action for action, _, _ in events]


@pytest.fixture
def admins(app: Flask) -> dict[str, Any]:
    """Two admins, A and B, each logged in."""
    a_id = make_user(app, "admin.a@example.org", "admin")
    b_id = make_user(app, "admin.b@example.org", "admin")
    return {
        "a_id": a_id,
        "b_id": b_id,
        "a": login(app, "admin.a@example.org"),
        "b": login(app, "admin.b@example.org"),
    }


@pytest.fixture
def certificate(app: Flask, client: FlaskClient) -> dict[str, str]:
    """An issued certificate: its number and its verification token."""
    application_id = file_application(client)
    drain(app)
    body = client.get(
        f"/api/v1/applications/{application_id}", headers=signup_and_token_again(client)
    ).get_json()
    issued = body["certificate"]
    assert issued is not None, body
    token = issued["verify_url"].split("#", 1)[1]
    assert verification(client, token) == "valid"
    return {"id": issued["id"], "token": token}


@pytest.fixture
def failed_th(app: Flask, client: FlaskClient) -> dict[str, str]:
    """An application whose TH check failed; KE and NG are answered by the sandbox."""
    application_id = file_application(client)
    fail(app, application_id, "TH")
    drain(app)
    th = check_of(app, application_id, "TH")
    assert th.status == "failed"
    return {"application": application_id, "th": th.id}


def ask_to_revoke(admin: FlaskClient, certificate_id: str, reason: str = REASON) -> Any:
    """An admin asks for a certificate's revocation on the admin page."""
    return admin.post(f"/admin/certificates/{certificate_id}/revoke", data={"reason": reason})


def answer_by_hand(admin: FlaskClient, check_id: str) -> Any:
    """An admin enters the TH agency's answer (two records) by hand and confirms it."""
    return admin.post(
        f"/admin/checks/{check_id}/answer",
        data={**RECORDS, "reason": HAND_REASON, "confirm": "1"},
    )


# --- revocation


def test_a_revocation_takes_effect_only_when_a_second_admin_approves(
    app: Flask, client: FlaskClient, admins: dict[str, Any], certificate: dict[str, str]
) -> None:
    a, b = admins["a"], admins["b"]
    asked = ask_to_revoke(a, certificate["id"])
    assert asked.status_code == 302
    # nothing changed yet: every verifier is still told "valid"
    assert verification(client, certificate["token"]) == "valid"
    assert revocation_reason(app, certificate["id"]) is None
    action = the_only_open_action(app)
    assert (action.kind, action.subject_id, action.reason) == (
        "revoke_certificate",
        certificate["id"],
        REASON,
    )
    assert action.requested_by == admins["a_id"]
    assert names(actions(app, certificate["id"]))[-1] == "approval.requested"

    # every admin sees it waiting; the certificate list says so
    for admin in (a, b):
        page = admin.get("/admin/approvals")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert certificate["id"] in html
        assert REASON in html
        assert f"/admin/approvals/{action.id}" in html
        assert 'href="/admin/approvals"' in html  # the navigation link
    assert "Revocation awaiting approval" in a.get("/admin/certificates").get_data(as_text=True)

    # the requester cannot approve it
    own = a.post(f"/admin/approvals/{action.id}/approve")
    assert own.status_code == 403
    assert "a different administrator must approve it" in own.get_data(as_text=True)
    assert verification(client, certificate["token"]) == "valid"
    assert action_of(app, action.id).decision is None

    # the second admin reviews and approves: revoked for every verifier from now on
    review = b.get(f"/admin/approvals/{action.id}")
    assert review.status_code == 200
    assert f'action="/admin/approvals/{action.id}/approve"' in review.get_data(as_text=True)
    approved = b.post(f"/admin/approvals/{action.id}/approve")
    assert approved.status_code == 303
    assert approved.headers["Location"] == "/admin/approvals"
    assert verification(client, certificate["token"]) == "revoked"
    assert revocation_reason(app, certificate["id"]) == REASON
    decided = action_of(app, action.id)
    assert (decided.decision, decided.decided_by) == ("approved", admins["b_id"])

    a_actor, b_actor = f"user:{admins['a_id']}", f"user:{admins['b_id']}"
    trail = [(name, actor) for name, actor, _ in actions(app, certificate["id"])]
    assert trail[-3:] == [
        ("approval.requested", a_actor),
        ("approval.approved", b_actor),
        ("certificate.revoked", a_actor),
    ]
    for _, _, details in actions(app, certificate["id"])[-3:-1]:
        assert details["approval_id"] == action.id

    # approving twice is refused and changes nothing
    events = actions(app, certificate["id"])
    again = b.post(f"/admin/approvals/{action.id}/approve")
    assert again.status_code == 409
    assert "approved already" in again.get_data(as_text=True)
    assert actions(app, certificate["id"]) == events


def test_a_rejected_revocation_changes_nothing(
    app: Flask, client: FlaskClient, admins: dict[str, Any], certificate: dict[str, str]
) -> None:
    a, b = admins["a"], admins["b"]
    ask_to_revoke(a, certificate["id"])
    action = the_only_open_action(app)
    rejected = b.post(
        f"/admin/approvals/{action.id}/reject", data={"note": "Checked: the document is genuine"}
    )
    assert rejected.status_code == 303
    assert verification(client, certificate["token"]) == "valid"
    assert revocation_reason(app, certificate["id"]) is None
    decided = action_of(app, action.id)
    assert (decided.decision, decided.decided_by, decided.decision_note) == (
        "rejected",
        admins["b_id"],
        "Checked: the document is genuine",
    )
    name, actor, details = actions(app, certificate["id"])[-1]
    assert (name, actor) == ("approval.rejected", f"user:{admins['b_id']}")
    assert details["note"] == "Checked: the document is genuine"
    assert details["withdrawn"] is False

    # a rejected action can no longer be approved (nor rejected again)
    assert a.post(f"/admin/approvals/{action.id}/approve").status_code == 409
    assert b.post(f"/admin/approvals/{action.id}/approve").status_code == 409
    assert b.post(f"/admin/approvals/{action.id}/reject").status_code == 409
    assert verification(client, certificate["token"]) == "valid"
    assert "No request waits for approval" in b.get("/admin/approvals").get_data(as_text=True)


def test_a_second_request_for_the_same_revocation_is_not_stored(
    app: Flask, admins: dict[str, Any], certificate: dict[str, str]
) -> None:
    ask_to_revoke(admins["a"], certificate["id"])
    again = ask_to_revoke(admins["b"], certificate["id"], "Another reason")
    assert again.status_code == 302
    assert again.headers["Location"] == "/admin/approvals"
    assert len(open_actions(app)) == 1
    page = admins["b"].get(f"/admin/certificates/{certificate['id']}/revoke")
    assert "already waits for a second administrator" in page.get_data(as_text=True)


def test_a_stale_revocation_cannot_be_approved(
    app: Flask,
    client: FlaskClient,
    runner: FlaskCliRunner,
    admins: dict[str, Any],
    certificate: dict[str, str],
) -> None:
    ask_to_revoke(admins["a"], certificate["id"])
    action = the_only_open_action(app)
    # an operator at the console revokes at once, without a second person (the contract)
    result = runner.invoke(
        args=["certificates", "revoke", "--reason", "Court order 7/2026", certificate["id"]]
    )
    assert result.exit_code == 0, result.output
    assert verification(client, certificate["token"]) == "revoked"

    events = actions(app, certificate["id"])
    listing = admins["b"].get("/admin/approvals").get_data(as_text=True)
    assert "Out of date: The certificate has been revoked in the meantime." in listing
    stale = admins["b"].post(f"/admin/approvals/{action.id}/approve")
    assert stale.status_code == 409
    assert "revoked in the meantime" in stale.get_data(as_text=True)
    assert actions(app, certificate["id"]) == events
    assert action_of(app, action.id).decision is None
    assert revocation_reason(app, certificate["id"]) == "Court order 7/2026"
    # it can be cleared by rejecting it
    assert admins["b"].post(f"/admin/approvals/{action.id}/reject").status_code == 303
    assert action_of(app, action.id).decision == "rejected"


# --- answers entered by hand


def test_an_answer_by_hand_takes_effect_only_when_a_second_admin_approves(
    app: Flask, client: FlaskClient, admins: dict[str, Any], failed_th: dict[str, str]
) -> None:
    a, b, th = admins["a"], admins["b"], failed_th["th"]
    assert answer_by_hand(a, th).status_code == 303
    # nothing changed yet: the check is still failed, no certificate is issued
    drain(app)
    assert check_of(app, failed_th["application"], "TH").status == "failed"
    body = client.get(
        f"/api/v1/applications/{failed_th['application']}", headers=signup_and_token_again(client)
    ).get_json()
    assert body["certificate"] is None
    action = the_only_open_action(app)
    assert (action.kind, action.subject_id) == ("answer_check", th)
    assert "Answer awaiting approval" in a.get("/admin/checks").get_data(as_text=True)
    requested = [e for e in actions(app, th) if e[0] == "approval.requested"]
    assert requested == [
        (
            "approval.requested",
            f"user:{admins['a_id']}",
            {
                "approval_id": action.id,
                "kind": "answer_check",
                "country": "TH",
                "outcome": "record_found",
                "reason": HAND_REASON,
            },
        )
    ]

    # the records wait sealed at rest, like the check's own records
    with app.app_context():
        raw = db.session.execute(
            text("SELECT payload FROM pending_actions WHERE id = :id"), {"id": action.id}
        ).scalar_one()
    assert raw.startswith("enc:v2:")
    assert "bicycle" not in raw

    # the list shows no records; the review page does, and that view is audited
    assert "Theft of a bicycle" not in b.get("/admin/approvals").get_data(as_text=True)
    review = b.get(f"/admin/approvals/{action.id}")
    assert "Theft of a bicycle" in review.get_data(as_text=True)
    assert ("approval.viewed", f"user:{admins['b_id']}") in [(n, w) for n, w, _ in actions(app, th)]

    own = a.post(f"/admin/approvals/{action.id}/approve")
    assert own.status_code == 403
    assert check_of(app, failed_th["application"], "TH").status == "failed"

    assert b.post(f"/admin/approvals/{action.id}/approve").status_code == 303
    check = check_of(app, failed_th["application"], "TH")
    assert (check.status, check.outcome, len(check.records)) == ("answered", "record_found", 2)
    assert action_of(app, action.id).payload is None  # no second copy of the records is kept
    trail = [(n, w) for n, w, _ in actions(app, th)]
    a_actor, b_actor = f"user:{admins['a_id']}", f"user:{admins['b_id']}"
    assert trail[-3:] == [
        ("approval.approved", b_actor),
        ("check.answered", a_actor),
        ("check.answered_by_hand", a_actor),
    ]
    assert actions(app, th)[-1][2]["approved_by"] == b_actor

    # the certificate is issued with the hand-entered answer
    drain(app)
    outcomes, pdf_text = certificate_outcomes_and_text(
        client, failed_th["application"], signup_and_token_again(client)
    )
    assert outcomes == {"KE": "no_record", "TH": "record_found", "NG": "no_record"}
    assert "Theft of a bicycle" in pdf_text
    assert b.post(f"/admin/approvals/{action.id}/approve").status_code == 409


def test_an_answer_by_hand_can_be_rejected_or_withdrawn(
    app: Flask, admins: dict[str, Any], failed_th: dict[str, str]
) -> None:
    a, b, th = admins["a"], admins["b"], failed_th["th"]
    answer_by_hand(a, th)
    first = the_only_open_action(app)
    assert b.post(f"/admin/approvals/{first.id}/reject").status_code == 303
    assert check_of(app, failed_th["application"], "TH").status == "failed"
    assert action_of(app, first.id).payload is None

    # the requester may withdraw their own request (but never approve it)
    answer_by_hand(a, th)
    second = the_only_open_action(app)
    assert a.post(f"/admin/approvals/{second.id}/reject").status_code == 303
    name, actor, details = actions(app, th)[-1]
    assert (name, actor, details["withdrawn"]) == (
        "approval.rejected",
        f"user:{admins['a_id']}",
        True,
    )
    assert check_of(app, failed_th["application"], "TH").status == "failed"
    assert open_actions(app) == []


def test_a_stale_answer_cannot_be_approved(
    app: Flask, admins: dict[str, Any], failed_th: dict[str, str]
) -> None:
    a, b, th = admins["a"], admins["b"], failed_th["th"]
    answer_by_hand(a, th)
    action = the_only_open_action(app)
    # meanwhile the check is retried and the agency answers itself
    assert b.post(f"/admin/checks/{th}/retry").status_code == 303
    drain(app)
    check = check_of(app, failed_th["application"], "TH")
    assert (check.status, check.outcome) == ("answered", "no_record")

    events = actions(app, th)
    stale = b.post(f"/admin/approvals/{action.id}/approve")
    assert stale.status_code == 409
    assert "no longer failed" in stale.get_data(as_text=True)
    assert actions(app, th) == events
    check = check_of(app, failed_th["application"], "TH")
    assert (check.status, check.outcome, check.records) == ("answered", "no_record", [])
    assert action_of(app, action.id).decision is None


def test_an_answer_for_a_withdrawn_application_cannot_be_approved(
    app: Flask, client: FlaskClient, admins: dict[str, Any], failed_th: dict[str, str]
) -> None:
    a, b, th = admins["a"], admins["b"], failed_th["th"]
    answer_by_hand(a, th)
    action = the_only_open_action(app)
    withdrawn = client.post(
        f"/api/v1/applications/{failed_th['application']}/withdraw",
        headers=signup_and_token_again(client),
    )
    assert withdrawn.status_code == 200, withdrawn.get_json()

    stale = b.post(f"/admin/approvals/{action.id}/approve")
    assert stale.status_code == 409
    assert "no longer in progress" in stale.get_data(as_text=True)
    assert check_of(app, failed_th["application"], "TH").status == "failed"
    # and no new answer can be asked for it
    assert b.post(f"/admin/approvals/{action.id}/reject").status_code == 303
    assert action_of(app, action.id).payload is None
    assert answer_by_hand(a, th).status_code == 409
    assert open_actions(app) == []


# --- who may see and decide


def test_only_admins_see_or_decide_approvals(
    app: Flask, client: FlaskClient, admins: dict[str, Any], certificate: dict[str, str]
) -> None:
    ask_to_revoke(admins["a"], certificate["id"])
    action = the_only_open_action(app)
    paths = ("/admin/approvals", f"/admin/approvals/{action.id}")
    posts = (f"/admin/approvals/{action.id}/approve", f"/admin/approvals/{action.id}/reject")

    anonymous = app.test_client()
    for path in paths:
        response = anonymous.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")
    for path in posts:
        assert anonymous.post(path).status_code == 302

    make_user(app, "officer.ke@example.org", "agency-officer", "KE")
    make_user(app, "someone@example.org", "applicant")
    for other in (login(app, "officer.ke@example.org"), login(app, "someone@example.org")):
        for path in paths:
            assert other.get(path).status_code == 403
        for path in posts:
            assert other.post(path).status_code == 403
        assert "/admin/approvals" not in other.get("/v").get_data(as_text=True)

    assert action_of(app, action.id).decision is None
    assert verification(client, certificate["token"]) == "valid"
    assert admins["b"].get("/admin/approvals/no-such-action").status_code == 404
    assert admins["b"].post("/admin/approvals/no-such-action/approve").status_code == 404


def test_the_service_refuses_non_admins_and_self_approval(
    app: Flask, admins: dict[str, Any], certificate: dict[str, str]
) -> None:
    """The rule holds below the pages too: the service itself checks who decides."""
    applicant_id = make_user(app, "someone@example.org", "applicant")
    with app.app_context():
        a = db.session.get(User, admins["a_id"])
        applicant = db.session.get(User, applicant_id)
        found = db.session.get(Certificate, certificate["id"])
        assert a is not None
        assert applicant is not None
        assert found is not None
        with pytest.raises(approvals.NotAnAdmin):
            approvals.request_revocation(
                db.session, found, reason="x", requester=applicant, now=utcnow()
            )
        action = approvals.request_revocation(
            db.session, found, reason=REASON, requester=a, now=utcnow()
        )
        db.session.commit()
        with pytest.raises(approvals.NotAnAdmin):
            approvals.approve(db.session, action.id, approver=applicant, now=utcnow())
        with pytest.raises(approvals.SelfApproval):
            approvals.approve(db.session, action.id, approver=a, now=utcnow())
        db.session.rollback()
        after = db.session.get(Certificate, certificate["id"])
        assert after is not None
        assert after.revoked_at is None


def test_approval_forms_need_a_csrf_token(
    app_config: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    app_config["WTF_CSRF_ENABLED"] = True
    app: Flask = request.getfixturevalue("app")
    client = app.test_client()
    issued = request.getfixturevalue("certificate")
    admins = request.getfixturevalue("admins")
    a, b = admins["a"], admins["b"]

    form = a.get(f"/admin/certificates/{issued['id']}/revoke").get_data(as_text=True)
    token_a = csrf_token_of(form)
    assert token_a
    asked = a.post(
        f"/admin/certificates/{issued['id']}/revoke",
        data={"reason": REASON, "csrf_token": token_a},
    )
    assert asked.status_code == 302
    action = the_only_open_action(app)

    assert b.post(f"/admin/approvals/{action.id}/approve").status_code == 400
    assert b.post(f"/admin/approvals/{action.id}/reject").status_code == 400
    assert action_of(app, action.id).decision is None
    assert verification(client, issued["token"]) == "valid"

    token_b = csrf_token_of(b.get(f"/admin/approvals/{action.id}").get_data(as_text=True))
    assert token_b
    approved = b.post(f"/admin/approvals/{action.id}/approve", data={"csrf_token": token_b})
    assert approved.status_code == 303
    assert verification(client, issued["token"]) == "revoked"
