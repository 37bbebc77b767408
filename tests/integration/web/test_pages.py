"""The server-rendered pages, through the Flask test client."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from html import unescape
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from certificate.applications.models import Application
from certificate.db import db
from certificate.issuance.claims import CODE_OUTCOMES, encode_outcomes
from certificate.issuance.models import CertificateVerification
from certificate.verify.routes import OUTCOME_WORDS
from tests.conftest import drain, web_login

PASSWORD = "correct horse battery"


def signup(client: FlaskClient, email: str = "ada@example.org", name: str = "Ada Okafor") -> None:
    """Create an applicant through the sign-up form, then log in through the log-in form."""
    response = client.post(
        "/signup",
        data={"name": name, "email": email, "password": PASSWORD, "confirm": PASSWORD},
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    assert response.headers["Location"].endswith("/login")
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 303, response.get_data(as_text=True)
    assert response.headers["Location"].endswith("/applications")


def logout(client: FlaskClient) -> None:
    """Log out through the navigation's form."""
    assert client.post("/logout").status_code == 303


def form_data(**overrides: Any) -> dict[str, Any]:
    """A valid filing as the browser sends it (the contract's example)."""
    data: dict[str, Any] = {
        "family_name": "Okafor",
        "given_names": "Ada Chioma",
        "other_names": "Ada Mensah",
        "date_of_birth": "1990-04-17",
        "birth_city": "Lagos",
        "birth_country": "NG",
        "nationalities-0": "NG",
        "nationalities-1": "",
        "nationalities-2": "",
        "document_type": "passport",
        "document_number": "A1234567",
        "document_country": "NG",
        "document_expires": date(datetime.now(UTC).year + 5, 1, 1).isoformat(),
        "residences-0-country": "KE",
        "residences-0-start": "2012-09",
        "residences-0-end": "2016-06",
        "residences-1-country": "TH",
        "residences-1-start": "2016-07",
        "residences-1-end": "",
        "residences-2-country": "",
        "residences-2-start": "",
        "residences-2-end": "",
        "language": "en",
        "purpose": "Teacher at a primary school",
        "consent": "y",
        "submission": "test-submission-key-0001",
    }
    data.update(overrides)
    return data


def count_applications(app: Flask) -> int:
    """How many applications are stored."""
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(Application)) or 0)


def file_by_form(client: FlaskClient, **overrides: Any) -> str:
    """File through the HTML form and return the progress page's path."""
    response = client.post("/applications/new", data=form_data(**overrides))
    assert response.status_code == 303, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert re.fullmatch(r"/applications/\w+", location)
    return location


def text_of(html: str) -> str:
    """The page's text with tags removed and spaces collapsed."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def issued(app: Flask, client: FlaskClient) -> tuple[str, bytes, str]:
    """File, complete every check, and return (progress path, the PDF, the certificate number)."""
    signup(client)
    progress = file_by_form(client)
    drain(app)
    page = client.get(progress).get_data(as_text=True)
    pdf = client.get(f"{progress}/certificate.pdf")
    assert pdf.status_code == 200
    number = re.search(r'<dd class="mono">([0-9A-Z-]+)</dd>', page)
    assert number is not None
    return progress, pdf.data, number.group(1)


# --- pages anyone can see


def test_landing_page_links_the_ways_in(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert 'href="/signup"' in html
    assert 'href="/login"' in html
    assert 'href="/v"' in html
    assert 'name="viewport"' in html


def test_pages_load_styles_and_scripts_from_self_only(client: FlaskClient) -> None:
    response = client.get("/v")
    html = response.get_data(as_text=True)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "style=" not in html
    assert "<style" not in html
    # the only script elements are files, plus a non-executable JSON data block
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag
    for static in ("/static/style.css", "/static/verify.js", "/static/residences.js"):
        with client.get(static) as response:
            assert response.status_code == 200


# --- accounts


def test_signup_login_logout(client: FlaskClient) -> None:
    signup(client)
    dashboard = client.get("/applications")
    assert dashboard.status_code == 200
    assert "Ada Okafor" in dashboard.get_data(as_text=True)
    assert "Log out" in dashboard.get_data(as_text=True)

    logout(client)
    assert client.get("/applications").status_code == 302

    bad = client.post("/login", data={"email": "ada@example.org", "password": "wrong password!"})
    assert bad.status_code == 400
    assert "e-mail address or password is not correct" in bad.get_data(as_text=True)

    good = client.post("/login", data={"email": "ADA@example.org", "password": PASSWORD})
    assert good.status_code == 303
    assert good.headers["Location"] == "/applications"
    assert client.get("/applications").status_code == 200


def test_login_follows_only_local_next(client: FlaskClient) -> None:
    signup(client)
    logout(client)
    credentials = {"email": "ada@example.org", "password": PASSWORD}
    response = client.post("/login?next=/applications/new", data=credentials)
    assert response.headers["Location"] == "/applications/new"
    logout(client)
    response = client.post("/login?next=https://evil.example/", data=credentials)
    assert response.headers["Location"] == "/applications"


def test_signup_hides_a_taken_email_and_refuses_a_short_password(client: FlaskClient) -> None:
    new = client.post(
        "/signup",
        data={"name": "N", "email": "new@example.org", "password": PASSWORD, "confirm": PASSWORD},
    )
    signup(client)
    logout(client)
    taken = client.post(
        "/signup",
        data={
            "name": "Other",
            "email": "ada@example.org",
            "password": "another long password",
            "confirm": "another long password",
        },
    )
    assert (taken.status_code, taken.headers["Location"]) == (new.status_code, "/login")
    assert "already" not in client.get("/login").get_data(as_text=True)
    owner = client.post("/login", data={"email": "ada@example.org", "password": PASSWORD})
    assert owner.status_code == 303  # the owner's password is untouched
    logout(client)
    short = client.post(
        "/signup",
        data={"name": "X", "email": "x@example.org", "password": "short", "confirm": "short"},
    )
    assert short.status_code == 400
    assert "must be 10 to 200 characters" in short.get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_log_in(client: FlaskClient) -> None:
    for path in (
        "/applications",
        "/applications/new",
        "/applications/abc",
        "/applications/abc/certificate.pdf",
    ):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login?next=")


def test_other_roles_may_not_file(app: Flask, client: FlaskClient) -> None:
    from certificate.auth.service import create_user

    with app.app_context():
        create_user(
            db.session, email="admin@example.org", password=PASSWORD, name="Admin", role="admin"
        )
        db.session.commit()
    web_login(app, client, "admin@example.org", PASSWORD)
    assert client.get("/applications/new").status_code == 403
    assert client.post("/applications/new", data=form_data()).status_code == 403
    assert count_applications(app) == 0


def test_forms_are_refused_without_a_csrf_token(app_config: dict[str, Any], request: Any) -> None:
    app_config["WTF_CSRF_ENABLED"] = True
    app: Flask = request.getfixturevalue("app")
    client = app.test_client()
    refused = client.post("/login", data={"email": "ada@example.org", "password": PASSWORD})
    assert refused.status_code == 400
    assert "CSRF" in refused.get_data(as_text=True)
    assert client.post("/logout").status_code == 400
    assert (
        client.post(
            "/v", data={"certificate_number": "X", "date_of_birth": "1990-01-01"}
        ).status_code
        == 400
    )

    # with the token from the page, the same form goes through
    page = client.get("/signup").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token is not None
    response = client.post(
        "/signup",
        data={
            "csrf_token": token.group(1),
            "name": "Ada",
            "email": "ada@example.org",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    assert response.status_code == 303


# --- filing and progress


def test_filing_form_offers_countries_and_consent(client: FlaskClient) -> None:
    signup(client)
    html = client.get("/applications/new").get_data(as_text=True)
    assert '<option value="KE">Kenya — participating</option>' in html
    assert '<option value="DE">Germany</option>' in html
    assert 'type="month"' in html
    assert 'type="checkbox"' in html
    assert "criminal record agency" in html
    assert "العربية" in html
    for row in range(6):
        assert f'id="residences-{row}-country"' in html
    for row in range(3):
        assert f'id="nationalities-{row}"' in html
    # every input has a label
    ids = set(re.findall(r'<(?:input|select|textarea)[^>]* id="([^"]+)"', html))
    labelled = set(re.findall(r'<label for="([^"]+)"', html))
    assert ids - {"submission", "csrf_token"} <= labelled


def test_add_rows_without_javascript(client: FlaskClient) -> None:
    signup(client)
    response = client.post("/applications/new", data=form_data(add_rows="1"))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="residences-8-country"' in html
    assert 'value="Okafor"' in html


def test_file_by_form_then_progress_until_complete(app: Flask, client: FlaskClient) -> None:
    signup(client)
    progress = file_by_form(client)
    assert count_applications(app) == 1

    page = client.get(progress)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # polled by script in an aria-live page, never reloaded
    assert 'id="progress-live" data-poll="on"' in html
    assert "progress.js" in html
    assert 'aria-live="polite"' in html
    assert 'http-equiv="refresh"' not in html
    assert "Waiting to be sent" in html
    for country in ("Kenya", "Thailand", "Nigeria"):
        assert country in html
    assert "certificate.pdf" not in html

    drain(app)
    html = client.get(progress).get_data(as_text=True)
    assert 'data-poll="off"' in html
    assert "Complete" in html
    assert "Answered: no criminal record" in html
    assert "Certificate number" in html
    assert f'href="{progress}/certificate.pdf"' in html
    assert 'href="/v#' in html
    pdf = client.get(f"{progress}/certificate.pdf")
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF-")

    dashboard = client.get("/applications").get_data(as_text=True)
    assert progress in dashboard
    assert "Kenya, Thailand, Nigeria" in dashboard


def test_the_same_form_sent_twice_files_once(app: Flask, client: FlaskClient) -> None:
    signup(client)
    first = file_by_form(client)
    second = file_by_form(client)
    assert first == second
    assert count_applications(app) == 1
    third = file_by_form(client, purpose="Nurse", submission="test-submission-key-0001")
    assert third != first
    assert count_applications(app) == 2


def test_progress_words_for_every_kind_of_check(app: Flask, client: FlaskClient) -> None:
    signup(client)
    # DE has no adapter here: not covered at once
    progress = file_by_form(
        client, **{"residences-2-country": "DE", "residences-2-start": "2010-01"}
    )
    html = client.get(progress).get_data(as_text=True)
    assert "No participating authority: shown as not checked" in html


def test_a_bad_form_is_shown_again_with_every_message(app: Flask, client: FlaskClient) -> None:
    signup(client)
    response = client.post(
        "/applications/new",
        data=form_data(
            date_of_birth="1990-02-30",
            consent="",
            **{"residences-1-end": "2015-01", "nationalities-1": "NG"},
        ),
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    text = text_of(html)
    assert "There are 4 problems with the form" in text
    assert "Nothing has been filed" in text
    # in the summary, naming the field in words and linking to it
    assert 'href="#date_of_birth">Date of birth</a>: must be a real date' in html
    assert (
        'href="#residences-1-end">Residence period 2: To (month)</a>: is before the period starts'
        in html
    )
    assert 'href="#consent">Consent</a>: must be true' in html
    assert 'href="#nationalities-0">Nationalities</a>: lists a country twice' in html
    # and beside each field
    assert 'id="residences-1-end-error"' in html
    assert 'id="date_of_birth-error"' in html
    assert 'id="consent-error"' in html
    assert re.search(
        r'id="residences-1-end"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="residences-1-end"',
        html,
    )
    # the applicant's input is kept
    assert 'value="Okafor"' in html
    assert 'value="1990-02-30"' in html
    assert 'value="2015-01"' in html
    assert count_applications(app) == 0


def test_blank_rows_are_ignored_and_missing_fields_named(app: Flask, client: FlaskClient) -> None:
    signup(client)
    data = form_data(family_name="  ", document_number="")
    for key in list(data):
        if key.startswith("residences-"):
            data[key] = ""
    data["residences-3-start"] = "2001-01"  # a row with only a start: its country is missing
    response = client.post("/applications/new", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'href="#family_name">Family name</a>: is required' in html
    assert 'href="#document_number">Document number</a>: is required' in html
    assert 'href="#residences-3-country">Residence period 4: Country</a>: is required' in html
    assert count_applications(app) == 0


def test_unmappable_paths_still_reach_the_summary(app: Flask) -> None:
    from certificate.applications.forms import ApplicationForm

    with app.test_request_context("/applications/new", method="POST", data=form_data()):
        form = ApplicationForm()
        form.to_payload()
        problems = form.problems(
            {"mystery.path": "is odd", "residences.0.from": "lies in the future"}
        )
    assert problems[0].field_id is None
    assert problems[0].label == "mystery.path"
    assert problems[1].field_id == "residences-0-start"
    assert problems[1].label == "Residence period 1: From (month)"


def test_someone_elses_application_is_not_found(app: Flask, client: FlaskClient) -> None:
    signup(client)
    progress = file_by_form(client)
    drain(app)
    logout(client)
    signup(client, email="eve@example.org", name="Eve")
    assert client.get(progress).status_code == 404
    assert client.get(f"{progress}/certificate.pdf").status_code == 404
    assert client.get("/applications/no-such-id").status_code == 404
    assert "Ada" not in client.get("/applications").get_data(as_text=True)


def test_pdf_before_issuance_is_a_404_page(client: FlaskClient) -> None:
    signup(client)
    progress = file_by_form(client)
    response = client.get(f"{progress}/certificate.pdf")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "not been issued yet" in response.get_data(as_text=True)


# --- verification


def test_verify_page_offers_both_forms(client: FlaskClient) -> None:
    response = client.get("/v")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'action="/v"' in html
    assert 'name="certificate_number"' in html
    assert 'name="date_of_birth"' in html
    assert 'action="/v/upload"' in html
    assert 'enctype="multipart/form-data"' in html
    assert 'name="file"' in html
    assert 'role="status"' in html
    assert 'aria-live="polite"' in html
    assert 'src="/static/verify.js"' in html
    assert "/api/v1/verify" in html


def test_typed_verification_by_form(app: Flask, client: FlaskClient) -> None:
    _progress, _pdf, number = issued(app, client)
    logout(client)

    right = client.post(
        "/v", data={"certificate_number": number.lower(), "date_of_birth": "1990-04-17"}
    )
    assert right.status_code == 200
    text = text_of(right.get_data(as_text=True))
    assert "Status: No record" in text
    assert "No record in any of the 3 countries checked." in text
    assert "The document is genuine and in force." in text
    assert "Ada Chioma Okafor" in text
    assert number in text
    assert "Kenya No record" in text
    assert "SPECIMEN" in text

    wrong = client.post("/v", data={"certificate_number": number, "date_of_birth": "1990-04-18"})
    assert wrong.status_code == 200
    text = text_of(wrong.get_data(as_text=True))
    assert "No certificate matches this number and date of birth." in text
    assert "Okafor" not in text

    malformed = client.post(
        "/v", data={"certificate_number": number, "date_of_birth": "17/04/1990"}
    )
    assert malformed.status_code == 400
    assert "must be a real date" in malformed.get_data(as_text=True)


def test_pdf_upload_by_form(app: Flask, client: FlaskClient) -> None:
    _progress, pdf, _number = issued(app, client)
    logout(client)

    genuine = client.post(
        "/v/upload",
        data={"file": (_bytes_io(pdf), "certificate.pdf", "application/pdf")},
        content_type="multipart/form-data",
    )
    assert genuine.status_code == 200
    text = text_of(genuine.get_data(as_text=True))
    assert "Status: No record" in text
    assert "Ada Chioma Okafor" in text

    middle = len(pdf) // 2
    altered = pdf[:middle] + bytes([pdf[middle] ^ 0x01]) + pdf[middle + 1 :]
    response = client.post(
        "/v/upload",
        data={"file": (_bytes_io(altered), "certificate.pdf", "application/pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    text = text_of(response.get_data(as_text=True))
    assert "Status: Invalid" in text
    assert "Okafor" not in text

    not_pdf = client.post(
        "/v/upload",
        data={"file": (_bytes_io(b"hello"), "notes.txt", "text/plain")},
        content_type="multipart/form-data",
    )
    assert not_pdf.status_code == 400
    assert "is not a PDF document" in not_pdf.get_data(as_text=True)
    assert client.post("/v/upload", data={}).status_code == 400


def test_verification_reaches_the_audit_chain(app: Flask, client: FlaskClient) -> None:
    from certificate.audit import AuditEvent, verify_chain

    _progress, _pdf, number = issued(app, client)
    client.post("/v", data={"certificate_number": number, "date_of_birth": "1990-04-17"})
    drain(app)  # the history writer seals verifications into the chain in batches
    drain(app)
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "certificate.verifications")
        ).all()
        assert [e.details["count"] for e in events] == [1]
        rows = db.session.scalars(select(CertificateVerification)).all()
        assert [(r.method, r.result, r.audit_event_id) for r in rows] == [
            ("number", "valid", events[0].id)
        ]
        assert verify_chain(db.session) == []


def test_every_outcome_code_has_words() -> None:
    assert set(OUTCOME_WORDS) == set(CODE_OUTCOMES)


@pytest.mark.parametrize(
    "status", ["valid", "revoked", "expired", "superseded", "invalid", "unknown"]
)
def test_result_view_hides_claims_of_invalid_answers(status: str) -> None:
    from certificate.verify.routes import result_view
    from certificate.verify.service import Verification

    outcomes = encode_outcomes([("KE", "no_record"), ("TH", "no_response")])
    claims = {
        "gn": "Ada",
        "fn": "Okafor",
        "dob": "1990-04-17",
        "jti": "X",
        "iat": 0,
        "exp": 86400,
        "c": outcomes,
        "spc": True,
    }
    view = result_view(Verification(status, claims))
    if status in ("invalid", "unknown"):
        assert view.holder is None
        assert view.countries == []
    else:
        assert view.holder == "Ada Okafor"
        assert view.issued == "1970-01-01"
        assert view.expires == "1970-01-02"
        assert view.specimen
        assert [(c.name, c.words) for c in view.countries] == [
            ("Kenya", "No record"),
            ("Thailand", "Did not answer: not confirmed"),
        ]


def _bytes_io(data: bytes) -> Any:
    from io import BytesIO

    return BytesIO(data)
