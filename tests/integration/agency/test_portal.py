"""The officer portal: own-country queries only, answers with confirmation, questions to the
applicant with a paused deadline, and the certificate that follows."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pypdfium2 as pdfium
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from certificate.agency.models import CheckQuestion
from certificate.agency.service import add_agency
from certificate.audit import AuditEvent, verify_chain
from certificate.auth.service import create_user
from certificate.checks.models import Check
from certificate.checks.service import expire_overdue
from certificate.db import db, utcnow
from certificate.issuance.claims import decode_outcomes
from tests.conftest import application_body, drain, signup_and_token, web_login

PASSWORD = "correct horse battery"
CONFIRM = "Confirm — this answer is final"


# --- helpers


def make_user(app: Flask, email: str, role: str, country: str | None = None) -> str:
    """Create a user directly; returns its id."""
    with app.app_context():
        user = create_user(
            db.session,
            email=email,
            password=PASSWORD,
            name=email.split("@")[0],
            role=role,
            country=country,
        )
        db.session.commit()
        return user.id


def login(app: Flask, email: str) -> FlaskClient:
    """A fresh client logged in through the form."""
    client = app.test_client()
    response = web_login(app, client, email, PASSWORD)
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


def portal_agencies(app: Flask, *countries: str) -> None:
    """Register portal-mode agencies, so those countries' queries wait for officers."""
    with app.app_context():
        for country in countries:
            add_agency(db.session, country=country, name=f"{country} Records Office", mode="portal")
        db.session.commit()


def file_application(client: FlaskClient, email: str = "ada@example.org", **kw: Any) -> str:
    """File the contract's example application through the API; returns its id."""
    headers = signup_and_token(client, email)
    response = client.post("/api/v1/applications", json=application_body(**kw), headers=headers)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def check_of(app: Flask, application_id: str, country: str) -> Check:
    """The (detached) check of one country."""
    with app.app_context():
        check = db.session.scalars(
            select(Check).where(Check.application_id == application_id, Check.country == country)
        ).one()
        db.session.expunge(check)
        return check


def actions(app: Flask, subject_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(action, actor, details) of every audit event about one subject."""
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.subject_id == subject_id).order_by(AuditEvent.id)
        ).all()
        return [(e.action, e.actor, e.details) for e in events]


def certificate_outcomes_and_text(
    client: FlaskClient, application_id: str, headers: dict[str, str]
) -> tuple[dict[str, str], str]:
    """The issued certificate's country outcomes (from the verified claims) and its PDF text."""
    body = client.get(f"/api/v1/applications/{application_id}", headers=headers).get_json()
    certificate = body["certificate"]
    assert certificate is not None, body
    token = certificate["verify_url"].split("#", 1)[1]
    verified = client.post("/api/v1/verify", json={"token": token}).get_json()
    assert verified["valid"] is True, verified
    outcomes = decode_outcomes(verified["certificate"]["c"])
    pdf = client.get(certificate["pdf_url"], headers=headers)
    assert pdf.status_code == 200
    document = pdfium.PdfDocument(pdf.data)
    try:
        text = "".join(str(page.get_textpage().get_text_range()) for page in document)
    finally:
        document.close()
    return outcomes, re.sub(r"\s+", " ", text)


@pytest.fixture
def filed(app: Flask, client: FlaskClient) -> dict[str, Any]:
    """KE and TH answer in the portal; one application filed and dispatched; a KE officer."""
    portal_agencies(app, "KE", "TH")
    application_id = file_application(client)
    drain(app)
    officer_id = make_user(app, "officer.ke@example.org", "agency-officer", "KE")
    return {
        "application": application_id,
        "ke": check_of(app, application_id, "KE").id,
        "th": check_of(app, application_id, "TH").id,
        "officer": officer_id,
        "portal": login(app, "officer.ke@example.org"),
    }


def answer(portal: FlaskClient, check_id: str, data: dict[str, str], confirm: bool) -> Any:
    """Post an answer to the portal, optionally confirming it."""
    form = dict(data)
    if confirm:
        form["confirm"] = "1"
    return portal.post(f"/portal/queries/{check_id}/answer", data=form)


RECORDS = {
    "outcome": "record_found",
    "records-0-offence": "Theft of a bicycle",
    "records-0-category": "property",
    "records-0-date": "2014-03-02",
    "records-0-court": "Nairobi Magistrates' Court",
    "records-0-sentence": "Fine of 5000 KES",
    # row 1 left blank (as a browser sends it): ignored
    "records-1-offence": "",
    "records-1-category": "",
    "records-1-date": "",
    "records-1-court": "",
    "records-1-sentence": "",
    "records-2-offence": "Driving without a licence",
    "records-2-category": "traffic",
    "records-2-date": "2015-07",
    "records-2-court": "Mombasa Law Courts",
    "records-2-sentence": "Conditional discharge",
    "reference": "KE-CRO-2026-118",
}


# --- seeing queries


def test_officer_sees_only_own_country_queries(app: Flask, filed: dict[str, Any]) -> None:
    portal = filed["portal"]
    page = portal.get("/portal")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"/portal/queries/{filed['ke']}" in html
    assert filed["th"] not in html
    assert "left" in html  # the time left to the deadline
    assert "Okafor" not in html  # the list shows no identities: opening a query is audited

    query = portal.get(f"/portal/queries/{filed['ke']}")
    assert query.status_code == 200
    html = query.get_data(as_text=True)
    for shown in ("Okafor", "Ada Chioma", "Ada Mensah", "1990-04-17", "Lagos", "A1234567"):
        assert shown in html
    assert "2012-09" in html  # the period in Kenya
    assert "2016-07" not in html  # not the period in Thailand
    assert "csrf_token" in html

    events = actions(app, filed["ke"])
    viewed = [e for e in events if e[0] == "query.viewed"]
    assert viewed == [("query.viewed", f"user:{filed['officer']}", {"country": "KE"})]


def test_another_countrys_query_is_not_found(app: Flask, filed: dict[str, Any]) -> None:
    make_user(app, "officer.th@example.org", "agency-officer", "TH")
    thai = login(app, "officer.th@example.org")
    ke = filed["ke"]
    assert thai.get(f"/portal/queries/{ke}").status_code == 404
    assert thai.get("/portal/queries/no-such-query").status_code == 404
    assert answer(thai, ke, {"outcome": "no_record"}, confirm=True).status_code == 404
    assert thai.post(f"/portal/queries/{ke}/question", data={"question": "Who?"}).status_code == 404
    html = thai.get("/portal").get_data(as_text=True)
    assert ke not in html
    assert filed["th"] in html
    check = check_of(app, filed["application"], "KE")
    assert check.status == "sent"
    assert check.paused_at is None
    assert not [e for e in actions(app, ke) if e[1].startswith("user:")]


def test_only_officers_use_the_portal(
    app: Flask, client: FlaskClient, filed: dict[str, Any]
) -> None:
    ke = filed["ke"]
    anonymous = app.test_client()
    for path in ("/portal", f"/portal/queries/{ke}"):
        response = anonymous.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")
    assert anonymous.post(f"/portal/queries/{ke}/answer", data={}).status_code == 302

    make_user(app, "admin@example.org", "admin")
    applicant = app.test_client()
    applicant.post("/login", data={"email": "ada@example.org", "password": PASSWORD})
    for other in (applicant, login(app, "admin@example.org")):
        assert other.get("/portal").status_code == 403
        assert other.get(f"/portal/queries/{ke}").status_code == 403
        assert answer(other, ke, {"outcome": "no_record"}, confirm=True).status_code == 403
        assert (
            other.post(f"/portal/queries/{ke}/question", data={"question": "x"}).status_code == 403
        )
    assert check_of(app, filed["application"], "KE").status == "sent"


def test_officers_land_on_the_portal(app: Flask) -> None:
    make_user(app, "officer.ke@example.org", "agency-officer", "KE")
    make_user(app, "admin@example.org", "admin")
    client = app.test_client()
    response = web_login(app, client, "officer.ke@example.org", PASSWORD)
    assert response.headers["Location"] == "/portal"
    assert 'href="/portal"' in client.get("/portal").get_data(as_text=True)
    client = app.test_client()
    response = web_login(app, client, "admin@example.org", PASSWORD)
    assert response.headers["Location"] == "/admin/checks"


# --- answering


def test_no_record_after_confirmation(
    app: Flask, client: FlaskClient, filed: dict[str, Any]
) -> None:
    portal, ke = filed["portal"], filed["ke"]
    preview = answer(portal, ke, {"outcome": "no_record"}, confirm=False)
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert CONFIRM in html
    assert 'name="outcome" value="no_record"' in html
    assert check_of(app, filed["application"], "KE").status == "sent"  # nothing final yet

    done = answer(portal, ke, {"outcome": "no_record"}, confirm=True)
    assert done.status_code == 303
    assert done.headers["Location"] == "/portal"
    check = check_of(app, filed["application"], "KE")
    assert (check.status, check.outcome, check.records) == ("answered", "no_record", [])
    assert ke not in portal.get("/portal").get_data(as_text=True)
    answered = [e for e in actions(app, ke) if e[0] in ("check.answered", "query.answered")]
    assert {e[1] for e in answered} == {f"user:{filed['officer']}"}
    assert len(answered) == 2

    # the same answer again changes nothing; a different one is refused
    assert answer(portal, ke, {"outcome": "no_record"}, confirm=True).status_code == 303
    assert answer(portal, ke, {"outcome": "identity_unconfirmed"}, confirm=True).status_code == 409
    assert check_of(app, filed["application"], "KE").outcome == "no_record"
    closed = portal.get(f"/portal/queries/{ke}").get_data(as_text=True)
    assert "This query is closed" in closed
    assert CONFIRM not in closed


def test_record_found_with_two_records_is_printed_as_given(
    app: Flask, client: FlaskClient, filed: dict[str, Any]
) -> None:
    portal, ke = filed["portal"], filed["ke"]
    preview = answer(portal, ke, RECORDS, confirm=False)
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert CONFIRM in html
    assert "2 records" in html
    assert "Theft of a bicycle" in html
    assert "Driving without a licence" in html

    assert answer(portal, ke, RECORDS, confirm=True).status_code == 303
    check = check_of(app, filed["application"], "KE")
    assert check.outcome == "record_found"
    assert check.reference == "KE-CRO-2026-118"
    assert [r["offence"] for r in check.records] == [
        "Theft of a bicycle",
        "Driving without a licence",
    ]
    # no record content in any audit event
    with app.app_context():
        details = " ".join(str(e.details) for e in db.session.scalars(select(AuditEvent)))
        assert verify_chain(db.session) == []
    assert "bicycle" not in details

    # Thailand answers too (by its own officer), then the certificate is issued
    make_user(app, "officer.th@example.org", "agency-officer", "TH")
    thai = login(app, "officer.th@example.org")
    assert answer(thai, filed["th"], {"outcome": "no_record"}, confirm=True).status_code == 303
    drain(app)
    headers = signup_and_token_again(client)
    outcomes, text = certificate_outcomes_and_text(client, filed["application"], headers)
    assert outcomes["KE"] == "record_found"
    assert outcomes["TH"] == "no_record"
    for shown in (
        "Theft of a bicycle",
        "Nairobi Magistrates' Court",
        "Fine of 5000 KES",
        "Driving without a licence",
        "Conditional discharge",
        "Property offence",  # the category in words
        "Road traffic offence",
    ):
        assert shown in text, shown


def test_identity_unconfirmed(app: Flask, client: FlaskClient, filed: dict[str, Any]) -> None:
    portal, ke = filed["portal"], filed["ke"]
    data = {"outcome": "identity_unconfirmed", "reference": "IU-7"}
    assert CONFIRM in answer(portal, ke, data, confirm=False).get_data(as_text=True)
    assert answer(portal, ke, data, confirm=True).status_code == 303
    make_user(app, "officer.th@example.org", "agency-officer", "TH")
    thai = login(app, "officer.th@example.org")
    assert answer(thai, filed["th"], {"outcome": "no_record"}, confirm=True).status_code == 303
    drain(app)
    outcomes, _text = certificate_outcomes_and_text(
        client, filed["application"], signup_and_token_again(client)
    )
    assert outcomes["KE"] == "identity_unconfirmed"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "choose one of the three answers"),
        ({"outcome": "record_found"}, "required and non-empty for record_found"),
        ({**RECORDS, "outcome": "no_record"}, "must be empty for no_record"),
        ({**RECORDS, "records-2-date": "last year"}, "Record 3: Date"),
        ({**RECORDS, "records-0-court": ""}, "Record 1: Court"),
        ({**RECORDS, "records-2-date": "2010-13-45"}, "is not a real calendar date"),
        ({**RECORDS, "records-2-date": "2099-99-99"}, "is not a real calendar date"),
        ({**RECORDS, "records-2-date": "2099-01-01"}, "lies in the future"),
        ({**RECORDS, "records-0-category": "economic"}, "Record 1: Category"),
        ({**RECORDS, "records-0-category": ""}, "Record 1: Category"),
    ],
)
def test_a_bad_answer_is_shown_again_and_nothing_is_recorded(
    app: Flask, filed: dict[str, Any], data: dict[str, str], message: str
) -> None:
    response = answer(filed["portal"], filed["ke"], data, confirm=True)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Nothing has been sent" in html
    assert message in html
    assert CONFIRM not in html
    assert check_of(app, filed["application"], "KE").status == "sent"


def test_more_record_rows_without_javascript(filed: dict[str, Any]) -> None:
    response = filed["portal"].post(
        f"/portal/queries/{filed['ke']}/answer", data={**RECORDS, "add_rows": "1"}
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="records-5-offence"' in html
    assert 'value="Theft of a bicycle"' in html


def test_change_the_answer_from_the_confirmation(filed: dict[str, Any]) -> None:
    response = filed["portal"].post(
        f"/portal/queries/{filed['ke']}/answer", data={**RECORDS, "edit": "1"}
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'value="Driving without a licence"' in html
    assert "Check the answer" in html


# --- questions to the applicant


def test_question_reply_and_paused_deadline(
    app: Flask, client: FlaskClient, filed: dict[str, Any]
) -> None:
    portal, ke, application_id = filed["portal"], filed["ke"], filed["application"]
    deadline_before = check_of(app, application_id, "KE").deadline_at
    asked = portal.post(
        f"/portal/queries/{ke}/question",
        data={"question": "Did you live in Nairobi under another surname?"},
    )
    assert asked.status_code == 303
    check = check_of(app, application_id, "KE")
    assert check.status == "sent"  # the contract's status is kept while paused
    assert check.paused_at is not None
    assert "Paused" in portal.get("/portal").get_data(as_text=True)

    # a second question waits for the first reply
    again = portal.post(f"/portal/queries/{ke}/question", data={"question": "And?"})
    assert again.status_code == 409

    # the applicant sees the question; the page no longer reloads itself under the typing
    client.post("/login", data={"email": "ada@example.org", "password": PASSWORD})
    progress = client.get(f"/applications/{application_id}").get_data(as_text=True)
    assert "Did you live in Nairobi under another surname?" in progress
    assert "waiting for your reply" in progress
    assert "Paused until you reply" in progress
    assert 'data-poll="off"' in progress
    with app.app_context():
        question_id = db.session.scalars(select(CheckQuestion.id)).one()
    assert f"/applications/{application_id}/questions/{question_id}/reply" in progress

    # while paused, a passed deadline does not expire the check
    paused_for = timedelta(days=2)
    with app.app_context():
        stored = db.session.get(Check, ke)
        assert stored is not None
        stored.paused_at = utcnow() - paused_for
        stored.deadline_at = utcnow() - timedelta(hours=1)
        db.session.commit()
        assert expire_overdue(db.session, utcnow()) == set()
        db.session.commit()
    assert check_of(app, application_id, "KE").status == "sent"

    # an empty reply is refused, with the message beside the field
    empty = client.post(f"/applications/{application_id}/questions/{question_id}/reply", data={})
    assert empty.status_code == 400
    assert "is required" in empty.get_data(as_text=True)

    before = utcnow()
    replied = client.post(
        f"/applications/{application_id}/questions/{question_id}/reply",
        data={"reply": "Yes: Ada Mensah, 2012 to 2014."},
    )
    assert replied.status_code == 303
    check = check_of(app, application_id, "KE")
    assert check.paused_at is None
    assert check.deadline_at is not None
    # extended by the time it was paused: about two days from the (past) deadline
    expected = before - timedelta(hours=1) + paused_for
    assert abs((check.deadline_at - expected).total_seconds()) < 5
    assert check.deadline_at > utcnow()
    assert deadline_before is not None
    with app.app_context():
        assert expire_overdue(db.session, utcnow()) == set()
        db.session.commit()

    progress = client.get(f"/applications/{application_id}").get_data(as_text=True)
    assert "Yes: Ada Mensah, 2012 to 2014." in progress
    assert "waiting for your reply" not in progress
    second = client.post(
        f"/applications/{application_id}/questions/{question_id}/reply", data={"reply": "More"}
    )
    assert second.status_code == 303
    with app.app_context():
        assert db.session.get(CheckQuestion, question_id).reply == (  # type: ignore[union-attr]
            "Yes: Ada Mensah, 2012 to 2014."
        )

    # the officer sees the reply
    query = portal.get(f"/portal/queries/{ke}").get_data(as_text=True)
    assert "Yes: Ada Mensah, 2012 to 2014." in query

    events = actions(app, ke)
    names = [e[0] for e in events]
    assert "query.question_asked" in names
    assert "query.question_replied" in names
    for action, _actor, details in events:
        if action.startswith("query.question"):
            assert "Nairobi" not in str(details)
            assert "Mensah" not in str(details)


def test_only_the_owner_replies(app: Flask, client: FlaskClient, filed: dict[str, Any]) -> None:
    application_id, ke = filed["application"], filed["ke"]
    filed["portal"].post(f"/portal/queries/{ke}/question", data={"question": "Your father's name?"})
    with app.app_context():
        question_id = db.session.scalars(select(CheckQuestion.id)).one()
    path = f"/applications/{application_id}/questions/{question_id}/reply"

    eve = app.test_client()
    file_application(eve, email="eve@example.org")
    eve.post("/login", data={"email": "eve@example.org", "password": PASSWORD})
    assert eve.post(path, data={"reply": "Mallory"}).status_code == 404
    assert "Your father's name?" not in eve.get("/applications").get_data(as_text=True)
    assert filed["portal"].post(path, data={"reply": "x"}).status_code == 403
    assert app.test_client().post(path, data={"reply": "x"}).status_code == 302
    with app.app_context():
        assert db.session.get(CheckQuestion, question_id).reply is None  # type: ignore[union-attr]
    assert check_of(app, application_id, "KE").paused_at is not None


def test_answering_ends_the_pause(app: Flask, client: FlaskClient, filed: dict[str, Any]) -> None:
    application_id, ke = filed["application"], filed["ke"]
    filed["portal"].post(f"/portal/queries/{ke}/question", data={"question": "Middle name?"})
    assert answer(filed["portal"], ke, {"outcome": "no_record"}, confirm=True).status_code == 303
    check = check_of(app, application_id, "KE")
    assert (check.status, check.paused_at) == ("answered", None)
    client.post("/login", data={"email": "ada@example.org", "password": PASSWORD})
    progress = client.get(f"/applications/{application_id}").get_data(as_text=True)
    assert "No reply is needed any more" in progress
    assert "Send your reply" not in progress


# --- explanations for the applicant


def test_progress_explains_no_response_and_failed(app: Flask, client: FlaskClient) -> None:
    application_id = file_application(client)
    with app.app_context():
        for country, status in (("KE", "no_response"), ("TH", "failed")):
            check = db.session.scalars(
                select(Check).where(
                    Check.application_id == application_id, Check.country == country
                )
            ).one()
            check.status = status
        db.session.commit()
    client.post("/login", data={"email": "ada@example.org", "password": PASSWORD})
    html = client.get(f"/applications/{application_id}").get_data(as_text=True)
    assert "did not answer within its deadline" in html
    assert "never as clear" in html
    assert "technical problem" in html
    assert "You do not need to do anything" in html


# --- CSRF


def test_portal_and_reply_forms_need_a_csrf_token(
    app_config: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    app_config["WTF_CSRF_ENABLED"] = True
    app: Flask = request.getfixturevalue("app")
    portal_agencies(app, "KE")
    applicant = app.test_client()
    application_id = file_application(applicant)
    drain(app)
    ke = check_of(app, application_id, "KE").id
    make_user(app, "officer.ke@example.org", "agency-officer", "KE")
    officer = login_with_token(app, "officer.ke@example.org")
    ada = login_with_token(app, "ada@example.org")

    refused = [
        officer.post(f"/portal/queries/{ke}/answer", data={"outcome": "no_record", "confirm": "1"}),
        officer.post(f"/portal/queries/{ke}/question", data={"question": "Who?"}),
    ]
    assert [r.status_code for r in refused] == [400, 400]
    assert check_of(app, application_id, "KE").status == "sent"

    # with the page's token the whole flow goes through, the confirmation carrying its own token
    page = officer.get(f"/portal/queries/{ke}").get_data(as_text=True)
    token = csrf_from(page)
    asked = officer.post(
        f"/portal/queries/{ke}/question", data={"question": "Other names?", "csrf_token": token}
    )
    assert asked.status_code == 303
    with app.app_context():
        question_id = db.session.scalars(select(CheckQuestion.id)).one()
    reply_path = f"/applications/{application_id}/questions/{question_id}/reply"
    assert ada.post(reply_path, data={"reply": "None"}).status_code == 400
    progress = ada.get(f"/applications/{application_id}").get_data(as_text=True)
    assert (
        ada.post(reply_path, data={"reply": "None", "csrf_token": csrf_from(progress)}).status_code
        == 303
    )

    preview = officer.post(
        f"/portal/queries/{ke}/answer", data={"outcome": "no_record", "csrf_token": token}
    )
    assert CONFIRM in preview.get_data(as_text=True)
    confirmed = officer.post(
        f"/portal/queries/{ke}/answer",
        data={
            "outcome": "no_record",
            "confirm": "1",
            "csrf_token": csrf_from(preview.get_data(as_text=True)),
        },
    )
    assert confirmed.status_code == 303
    assert check_of(app, application_id, "KE").status == "answered"


# --- small helpers used above


def csrf_from(html: str) -> str:
    """The CSRF token a page carries."""
    match = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


def login_with_token(app: Flask, email: str) -> FlaskClient:
    """Log in through the form when CSRF protection is on."""
    client = app.test_client()
    response = web_login(app, client, email, PASSWORD)
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


def signup_and_token_again(client: FlaskClient) -> dict[str, str]:
    """A bearer token for the applicant who filed (ada@example.org)."""
    response = client.post(
        "/api/v1/tokens", json={"email": "ada@example.org", "password": PASSWORD}
    )
    assert response.status_code == 200
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}
