"""Every page in every language: the right lang and dir, and no English chrome left behind."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from certificate.agency.service import add_agency
from certificate.auth.service import create_user
from certificate.checks.models import Check
from certificate.db import db, utcnow
from certificate.i18n import LANGUAGES, translations
from certificate.organisations.requests import create_request
from certificate.organisations.service import add_organisation
from certificate.organisations.webhooks import EVENTS
from tests.conftest import application_body, drain, signup_and_token, web_login

PASSWORD = "correct horse battery"
OTHERS = [code for code in LANGUAGES if code != "en"]


class Chrome(HTMLParser):
    """The texts of headings, navigation, labels, legends, table headers and buttons."""

    TAGS = frozenset({"h1", "h2", "h3", "nav", "label", "legend", "th", "button", "title"})

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.texts: set[str] = set()
        self.current: list[str] = []
        self.html_attrs: dict[str, str | None] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "html":
            self.html_attrs = dict(attrs)
        if tag in self.TAGS and not (tag == "th" and ("scope", "row") in attrs):
            self.depth += 1  # a row header names data (a country and its agency), not chrome

    def handle_endtag(self, tag: str) -> None:
        if tag in self.TAGS and self.depth and not (tag == "th" and not self.current):
            self.depth -= 1
            text = " ".join("".join(self.current).split())
            if re.search("[A-Za-z]{3}", text):
                self.texts.add(text)
            self.current = []

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.current.append(data)


def chrome(html: str) -> Chrome:
    parser = Chrome()
    parser.feed(html)
    return parser


@dataclass
class World:
    anonymous: FlaskClient
    applicant: FlaskClient
    officer: FlaskClient
    admin: FlaskClient
    application_id: str
    query_id: str
    employer: FlaskClient
    id_checker: FlaskClient
    request_id: str


def _user(
    app: Flask,
    email: str,
    role: str,
    country: str | None = None,
    organisation: str | None = None,
) -> None:
    with app.app_context():
        create_user(
            db.session,
            email=email,
            password=PASSWORD,
            name="Sam",
            role=role,
            country=country,
            organisation_id=organisation,
        )
        db.session.commit()


def _shared_request(app: Flask, applicant: FlaskClient, headers: dict[str, str]) -> str:
    """An organisation with an employer and an ID checker; its request to the applicant,
    who shares a certificate that found a record (the dashboard shows its answer)."""
    residences = [{"country": "TH", "from": "2016-07", "to": None}]
    filed = applicant.post(
        "/api/v1/applications",
        json=application_body("Recordson", residences=residences),
        headers=headers,
    )
    drain(app)
    with app.app_context():
        organisation = add_organisation(db.session, name="Save the Children", now=utcnow())
        request = create_request(
            db.session,
            organisation,
            email="ada@example.org",
            purpose="Teacher",
            language="en",
            actor="operator",
            now=utcnow(),
        )
        db.session.commit()
        organisation_id, request_id = organisation.id, request.id
    shared = applicant.post(
        f"/api/v1/requests/{request_id}/share",
        json={"application_id": filed.get_json()["id"]},
        headers=headers,
    )
    assert shared.status_code == 200, shared.get_json()
    _user(app, "hr@example.org", "employer", organisation=organisation_id)
    _user(app, "desk@example.org", "id-checker", organisation=organisation_id)
    return request_id


def _login(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    assert web_login(app, client, email, PASSWORD).status_code == 303
    return client


@pytest.fixture
def world(app: Flask) -> World:
    with app.app_context():
        add_agency(db.session, country="KE", name="Kenya Records Office", mode="portal")
        db.session.commit()
    applicant = app.test_client()
    headers = signup_and_token(applicant)
    created = applicant.post("/api/v1/applications", json=application_body(), headers=headers)
    application_id = created.get_json()["id"]
    drain(app)
    assert web_login(app, applicant, "ada@example.org", "correct horse battery").status_code in (
        200,
        302,
        303,
    )
    with app.app_context():
        query_id = db.session.scalars(
            select(Check.id).where(Check.application_id == application_id, Check.country == "KE")
        ).one()
    _user(app, "officer@example.org", "agency-officer", "KE")
    _user(app, "admin@example.org", "admin")
    request_id = _shared_request(app, applicant, headers)
    return World(
        app.test_client(),
        applicant,
        _login(app, "officer@example.org"),
        _login(app, "admin@example.org"),
        application_id,
        query_id,
        _login(app, "hr@example.org"),
        _login(app, "desk@example.org"),
        request_id,
    )


def pages(world: World) -> list[tuple[str, FlaskClient, str, dict[str, str] | None]]:
    """(name, client, path, form to post or None)."""
    verify_form = {"certificate_number": "7K2M-9QXD-4TRB-XXXX", "date_of_birth": "1990-04-17"}
    return [
        ("home", world.anonymous, "/", None),
        ("login", world.anonymous, "/login", None),
        ("signup", world.anonymous, "/signup", None),
        ("verify", world.anonymous, "/v", None),
        ("verify answered", world.anonymous, "/v", verify_form),
        ("filing form", world.applicant, "/applications/new", None),
        ("filing form with errors", world.applicant, "/applications/new", {"family_name": ""}),
        ("applications", world.applicant, "/applications", None),
        ("progress", world.applicant, f"/applications/{world.application_id}", None),
        ("portal queue", world.officer, "/portal", None),
        ("portal query", world.officer, f"/portal/queries/{world.query_id}", None),
        ("admin checks", world.admin, "/admin/checks", None),
        ("admin certificates", world.admin, "/admin/certificates", None),
        ("admin approvals", world.admin, "/admin/approvals", None),
        ("not found", world.anonymous, "/nowhere", None),
        ("candidate's request", world.applicant, f"/requests/{world.request_id}", None),
        ("employer requests", world.employer, "/employer", None),
        ("employer request with errors", world.employer, "/employer/requests", {"email": "x"}),
        ("employer keys and webhooks", world.employer, "/employer/access", None),
        ("employer webhook with errors", world.employer, "/employer/webhooks", {"url": ""}),
        ("employer CSV", world.employer, "/employer/verify", None),
        ("employer CSV without a file", world.employer, "/employer/verify", {}),
        ("identity desk", world.id_checker, "/identity-checks", None),
        ("identity desk with errors", world.id_checker, "/identity-checks", {"code": ""}),
    ]


def same_in(language: str, text: str) -> bool:
    """A word the catalogue translates as itself (French "Actions", Spanish "Error")."""
    catalogue = getattr(translations(language), "_catalog", {})
    return catalogue.get(text) == text


def fetch(client: FlaskClient, path: str, form: dict[str, str] | None, lang: str) -> str:
    url = f"{path}?lang={lang}"
    response = client.get(url) if form is None else client.post(url, data=form)
    assert response.status_code in (200, 400, 404), (path, response.status_code)
    return response.get_data(as_text=True)


# names and codes that read the same in every language
SAME_EVERYWHERE = {
    " ".join(entry.native_name for entry in LANGUAGES.values()),
    *EVENTS,  # webhook event names are codes of the API
}


@pytest.mark.parametrize("language", OTHERS)
def test_every_page_speaks_the_language_with_no_english_chrome_left(
    world: World, language: str
) -> None:
    for name, client, path, form in pages(world):
        english = chrome(fetch(client, path, form, "en"))
        assert english.html_attrs == {"lang": "en", "dir": "ltr"}, name
        page = chrome(fetch(client, path, form, language))
        expected_dir = "rtl" if LANGUAGES[language].rtl else "ltr"
        assert page.html_attrs == {"lang": language, "dir": expected_dir}, (name, language)
        left_in_english = {
            text
            for text in english.texts & page.texts
            if text not in SAME_EVERYWHERE
            and not text.startswith("Sam")
            and not same_in(language, text)
        }
        assert not left_in_english, (name, language, sorted(left_in_english))
