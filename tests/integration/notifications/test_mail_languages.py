"""Every e-mail reaches its recipient in their language, through a real SMTP server on loopback.

The expected words come from the catalogue in the recipient's language; each
test also checks that the message is not the English one.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from certificate.db import db, utcnow
from certificate.i18n import cldr
from certificate.issuance.revocation import revoke
from certificate.notifications.messages import render
from tests.conftest import application_body, drain, signup_and_token, web_login
from tests.integration.agency.test_portal import PASSWORD, make_user, portal_agencies
from tests.integration.notifications.test_mail import _deliver_all
from tests.integration.organisations.test_organisations import _last_line, _member, _organisation
from tests.mail import body_of, smtp_server


def _choose_language(app: Flask, email: str, language: str) -> FlaskClient:
    """Log in through the pages and pick ``language`` with the switcher, as a person would."""
    client = app.test_client()
    assert web_login(app, client, email, PASSWORD).status_code == 303
    assert client.get(f"/?lang={language}").status_code == 200
    return client


def _subject(topic: str, language: str, **values: str) -> str:
    subject, _ = render(topic, language, **values)
    assert subject != render(topic, "en", **values)[0]  # a translated message, not the source
    return subject


def test_the_address_check_follows_the_language_the_account_was_opened_in(
    build_app: Callable[..., Flask],
) -> None:
    with smtp_server() as inbox:
        app = build_app(
            IDENTITY_PROOFING="required",
            SMTP_URL=f"smtp://127.0.0.1:{inbox.port}",  # type: ignore[attr-defined]
        )
        client = app.test_client()
        created = client.post(
            "/api/v1/accounts",
            json={"email": "lucia@example.org", "password": PASSWORD, "name": "Lucía"},
            headers={"Accept-Language": "es-ES,es;q=0.9"},
        )
        assert created.status_code == 201
        assert _deliver_all(app) == 1
        (message,) = inbox.wait_for("lucia@example.org")
        assert message["Subject"] == _subject("email_verification", "es", link="")
        assert re.search(r"http://ipc\.test/email/verify/\S+", body_of(message))


def test_holder_and_officer_messages_follow_each_account_language(
    build_app: Callable[..., Flask],
) -> None:
    """The holder chose Arabic pages but an English certificate; the officer chose French."""
    with smtp_server() as inbox:
        app = build_app(SMTP_URL=f"smtp://127.0.0.1:{inbox.port}")  # type: ignore[attr-defined]
        portal_agencies(app, "TH")
        make_user(app, "officer.th@example.org", "agency-officer", "TH")
        portal = _choose_language(app, "officer.th@example.org", "fr")
        client = app.test_client()
        auth = signup_and_token(client, "holder@example.org")
        _choose_language(app, "holder@example.org", "ar")

        waiting = client.post(
            "/api/v1/applications", json=application_body(language="en"), headers=auth
        ).get_json()
        plain = client.post(
            "/api/v1/applications",
            json=application_body(
                language="en", residences=[{"country": "KE", "from": "2012-09", "to": None}]
            ),
            headers=auth,
        ).get_json()
        drain(app)
        assert _deliver_all(app) == 2  # the new query for Thailand, the KE-only certificate
        (query,) = inbox.wait_for("officer.th@example.org")
        assert query["Subject"] == _subject("new_query", "fr")
        assert cldr.country_name("TH", "fr") in body_of(query)  # Thaïlande, not Thailand
        assert "Thailand" not in body_of(query)

        (issued,) = inbox.wait_for("holder@example.org")
        number = client.get(f"/api/v1/applications/{plain['id']}", headers=auth).get_json()[
            "certificate"
        ]["id"]
        assert issued["Subject"] == _subject("certificate_issued", "ar")
        assert number in body_of(issued)

        queue = portal.get("/portal").get_data(as_text=True)
        check_id = re.search(r"/portal/queries/([0-9a-f-]+)", queue)
        assert check_id is not None, queue
        asked = portal.post(
            f"/portal/queries/{check_id.group(1)}/question", data={"question": "Other surname?"}
        )
        assert asked.status_code in (200, 303)
        with app.app_context():
            revoke(db.session, number, reason="Issued in error", actor="operator", now=utcnow())
            db.session.commit()
        assert _deliver_all(app) == 2
        _, question, revoked = inbox.wait_for("holder@example.org", 3)
        assert question["Subject"] == _subject("officer_question", "ar")
        assert f"/applications/{waiting['id']}" in body_of(question)
        assert revoked["Subject"] == _subject("certificate_revoked", "ar")
        assert number in body_of(revoked)


def test_a_candidate_is_asked_in_the_language_the_employer_chose(
    build_app: Callable[..., Flask],
) -> None:
    with smtp_server() as inbox:
        app = build_app(SMTP_URL=f"smtp://127.0.0.1:{inbox.port}")  # type: ignore[attr-defined]
        client = app.test_client()
        name = "Enfance et Avenir"
        organisation = _organisation(app, name)
        _member(app, "hr@stc.example", "employer", organisation)
        key = _last_line(
            app.test_cli_runner().invoke(args=["organisations", "api-key", organisation]).output
        )
        asked = client.post(
            "/api/v1/requests",
            json={"email": "amel@example.org", "purpose": "Enseignante", "language": "fr"},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert asked.status_code == 201, asked.get_json()
        assert _deliver_all(app) == 1
        (message,) = inbox.wait_for("amel@example.org")
        assert message["Subject"] == _subject(
            "candidate_request", "fr", organisation=name, purpose="", link=""
        )
        assert asked.get_json()["link"] in body_of(message)
