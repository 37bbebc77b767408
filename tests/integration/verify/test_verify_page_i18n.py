"""The /v page in four languages, the holder's verification history, and stated coverage."""

from __future__ import annotations

import io
import re
from typing import Any

import jwt
import pypdfium2 as pdfium
import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape

from certificate.i18n import codes
from certificate.issuance.claims import decode_outcomes
from certificate.issuance.summary import summary_sentence
from certificate.verify.i18n import words
from tests.conftest import application_body, drain

LANGUAGES = codes()

DOB = "1990-04-17"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_page_renders_in_each_language(client: FlaskClient, language: str) -> None:
    html = client.get(f"/v?lang={language}").get_data(as_text=True)
    t = words(language)
    assert f'<html lang="{language}" dir="{"rtl" if language == "ar" else "ltr"}">' in html
    for key in ("title", "typed_title", "number_label", "dob_label", "upload_title", "file_label"):
        assert str(escape(t[key])) in html, (language, key)
    assert f'<label for="certificate_number">{escape(t["number_label"])}' in html
    assert 'role="status"' in html
    # the forms keep the chosen language without JavaScript
    assert f'action="/v?lang={language}"' in html
    assert f'action="/v/upload?lang={language}"' in html


def test_accept_language_chooses_when_no_lang_is_given(client: FlaskClient) -> None:
    html = client.get("/v", headers={"Accept-Language": "de-DE,es;q=0.8,fr;q=0.5"}).get_data(
        as_text=True
    )
    assert '<html lang="es"' in html
    assert str(escape(words("es")["title"])) in html
    html = client.get("/v", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="en"' in html
    assert client.get("/v?lang=xx").get_data(as_text=True).startswith("<!doctype html>\n<html lang")


@pytest.fixture
def issued(app: Flask, client: FlaskClient, auth: dict[str, str]) -> dict[str, Any]:
    body = application_body("POLYGLOT")
    # Germany is not served by the sandbox: its period is not covered (NC)
    body["residences"].insert(0, {"country": "DE", "from": "2010-01", "to": "2012-08"})
    created = client.post("/api/v1/applications", json=body, headers=auth).get_json()
    drain(app)
    certificate = client.get(f"/api/v1/applications/{created['id']}", headers=auth).get_json()[
        "certificate"
    ]
    certificate["application_id"] = created["id"]
    certificate["token"] = certificate["verify_url"].split("#", 1)[1]
    certificate["pdf"] = client.get(certificate["pdf_url"], headers=auth).data
    return certificate


@pytest.mark.parametrize("language", LANGUAGES)
def test_typed_verification_answers_in_the_page_language(
    client: FlaskClient, issued: dict[str, Any], language: str
) -> None:
    t = words(language)
    response = client.post(
        f"/v?lang={language}", data={"certificate_number": issued["id"], "date_of_birth": DOB}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    outcomes = ["not_covered", "no_record", "no_record", "no_record"]
    for phrase in (
        t["headlines"]["not_confirmed"],  # DE not covered: a genuine certificate, not all clear
        summary_sentence(outcomes, language),
        t["reasons"]["valid"],
        t["outcomes"]["NC"],
        t["gap"].format(months=32),
    ):
        assert str(escape(phrase)) in html, phrase
    wrong = client.post(
        f"/v?lang={language}", data={"certificate_number": issued["id"], "date_of_birth": ""}
    )
    assert wrong.status_code == 400
    assert str(escape(t["required"])) in wrong.get_data(as_text=True)


def test_upload_on_the_page_answers_in_arabic(client: FlaskClient, issued: dict[str, Any]) -> None:
    response = client.post(
        "/v/upload?lang=ar",
        data={"file": (io.BytesIO(issued["pdf"]), "c.pdf")},
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert 'dir="rtl"' in html
    assert words("ar")["headlines"]["not_confirmed"] in html
    assert "كينيا" in html  # Kenya, named in Arabic


def test_the_gap_claim_and_the_pdf_state_uncovered_periods(issued: dict[str, Any]) -> None:
    claims = jwt.decode(issued["token"], options={"verify_signature": False})
    assert decode_outcomes(claims["c"])["DE"] == "not_covered"
    assert claims["gap"] == 32  # 2010-01 to 2012-08
    document = pdfium.PdfDocument(issued["pdf"])
    try:
        text = " ".join(str(document[0].get_textpage().get_text_range()).split())
    finally:
        document.close()
    assert "Residence periods without a confirmed answer" in text
    assert "Germany (DE): 2010-01 – 2012-08" in text
    assert "32 month(s) of the declared residence are not covered" in text


def test_the_holder_sees_when_and_how_it_was_verified(
    app: Flask, client: FlaskClient, auth: dict[str, str], issued: dict[str, Any]
) -> None:
    client.post("/api/v1/verify", json={"token": issued["token"]})
    client.post(
        "/v",
        data={
            "certificate_number": issued["id"],
            "date_of_birth": DOB,
            "organisation": "Greenfield Primary School",
        },
    )
    client.post(
        "/api/v1/verify",
        data={"file": (io.BytesIO(issued["pdf"]), "c.pdf")},
        content_type="multipart/form-data",
    )
    client.post(
        "/api/v1/verify", json={"certificate_id": issued["id"], "date_of_birth": "2000-01-01"}
    )

    owner = app.test_client()
    owner_login(app, owner, "holder@example.org")
    # the fixture's applicant filed through the API; show the same page to its owner
    page = _progress_as_owner(app, issued)
    assert "Who checked your certificate" in page
    rows = re.findall(
        r"<tr>\s*<td>([^<]+)</td>\s*<td>([^<]+)</td>\s*<td>([^<]+)</td>\s*<td>([^<]+)</td>", page
    )
    assert [(how, result, org) for _, how, result, org in rows] == [
        ("Uploaded the PDF", "Valid", "Not given"),
        ("Typed the number and date of birth", "Valid", "Greenfield Primary School"),
        ("Scanned the QR code", "Valid", "Not given"),
    ]  # the wrong date of birth is not a verification of this certificate
    stranger_page = owner.get(f"/applications/{issued['application_id']}")
    assert stranger_page.status_code == 404
    assert "Greenfield" not in stranger_page.get_data(as_text=True)


def owner_login(app: Flask, client: FlaskClient, email: str) -> None:
    """Sign up and log in a different applicant in the browser."""
    password = "a long enough password"
    client.post(
        "/signup",
        data={"name": "Someone", "email": email, "password": password, "confirm": password},
    )
    client.post("/login", data={"email": email, "password": password})


def _progress_as_owner(app: Flask, issued: dict[str, Any]) -> str:
    """The progress page as its owner sees it (the ``auth`` fixture's applicant, logged in)."""
    client = app.test_client()
    login = client.post(
        "/login", data={"email": "ada@example.org", "password": "correct horse battery"}
    )
    assert login.status_code in (302, 303)
    response = client.get(f"/applications/{issued['application_id']}")
    assert response.status_code == 200
    return response.get_data(as_text=True)
