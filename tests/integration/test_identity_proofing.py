"""Identity before any agency is asked: the held state, the sandbox rule, the claims."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from certificate import create_app
from certificate.agency.service import add_agency, open_queries
from certificate.auth.service import create_user
from certificate.checks.models import Check
from certificate.config import ConfigError
from certificate.db import db
from tests.conftest import application_body, drain, signup_and_token, web_login


def _file(client: FlaskClient, auth: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/applications", json=body, headers=auth)
    assert response.status_code == 201, response.get_json()
    result: dict[str, Any] = response.get_json()
    return result


def _checks(app: Flask, application_id: str) -> list[Check]:
    with app.app_context():
        return list(db.session.scalars(select(Check).where(Check.application_id == application_id)))


@pytest.fixture
def required_app(app_config: dict[str, Any]) -> Flask:
    app_config["IDENTITY_PROOFING"] = "required"
    return create_app(app_config)


@pytest.fixture
def required(required_app: Flask) -> Flask:
    with required_app.app_context():
        db.drop_all()
        db.create_all()
        add_agency(db.session, country="KE", name="Kenya Police (portal)", mode="portal")
        db.session.commit()
    return required_app


def test_required_mode_holds_the_application_and_no_agency_sees_it(required: Flask) -> None:
    client = required.test_client()
    auth = signup_and_token(client)
    filed = _file(client, auth, application_body())
    assert filed["status"] == "awaiting_identity"
    identity = filed["identity"]
    assert identity["status"] == "pending"
    assert re.fullmatch(r"[A-Z0-9]{8}", identity["code"])
    assert (identity["method"], identity["confirmed_at"]) == (None, None)
    assert {c["status"] for c in filed["checks"]} == {"queued"}

    drain(required)  # the sweeper finds nothing due: the checks are held

    again = client.get(f"/api/v1/applications/{filed['id']}", headers=auth).get_json()
    assert again["status"] == "awaiting_identity"
    assert {c["status"] for c in again["checks"]} == {"queued"}
    for check in _checks(required, filed["id"]):
        assert (check.attempts, check.sent_at, check.next_attempt_at) == (0, None, None)
    with required.app_context():
        assert open_queries(db.session, "KE") == []
        create_user(
            db.session,
            email="officer.ke@example.org",
            password="officer-password",
            name="Officer",
            role="agency-officer",
            country="KE",
        )
        db.session.commit()
    officer = required.test_client()
    web_login(required, officer, "officer.ke@example.org", "officer-password")
    portal = officer.get("/portal")
    assert portal.status_code == 200
    assert "There are no open queries" in portal.get_data(as_text=True)


def test_the_code_is_the_owners_alone(required: Flask) -> None:
    client = required.test_client()
    owner = signup_and_token(client)
    filed = _file(client, owner, application_body())
    other = signup_and_token(client, "someone@example.org")
    assert client.get(f"/api/v1/applications/{filed['id']}", headers=other).status_code == 404
    listed = client.get("/api/v1/applications", headers=other).get_json()["applications"]
    assert listed == []


def test_an_application_awaiting_identity_can_be_withdrawn(required: Flask) -> None:
    client = required.test_client()
    auth = signup_and_token(client)
    filed = _file(client, auth, application_body())
    response = client.post(f"/api/v1/applications/{filed['id']}/withdraw", headers=auth)
    assert response.status_code == 200
    assert response.get_json()["status"] == "withdrawn"


def test_sandbox_confirms_at_once_and_the_certificate_says_how(
    app: Flask, client: FlaskClient, auth: dict[str, str]
) -> None:
    filed = _file(client, auth, application_body())
    assert filed["status"] == "in_progress"
    assert filed["identity"]["status"] == "confirmed"
    assert filed["identity"]["method"] == "sandbox"
    assert filed["identity"]["confirmed_at"]
    drain(app)
    done = client.get(f"/api/v1/applications/{filed['id']}", headers=auth).get_json()
    assert done["status"] == "complete"
    token = done["certificate"]["verify_url"].split("#", 1)[1]
    claims = client.post("/api/v1/verify", json={"token": token}).get_json()["certificate"]
    assert claims["idm"] == "sandbox"
    assert "idb" not in claims


def test_sandbox_refuses_an_impostor_and_no_agency_ever_sees_it(
    app: Flask, client: FlaskClient, auth: dict[str, str]
) -> None:
    filed = _file(client, auth, application_body("IMPOSTOR Smith"))
    assert filed["status"] == "identity_refused"
    assert filed["identity"]["status"] == "refused"
    assert filed["identity"]["confirmed_at"] is None
    drain(app)
    done = client.get(f"/api/v1/applications/{filed['id']}", headers=auth).get_json()
    assert done["status"] == "identity_refused"
    assert done["certificate"] is None
    for check in _checks(app, filed["id"]):
        assert (check.status, check.attempts, check.sent_at) == ("queued", 0, None)


def test_the_progress_page_shows_the_code_while_waiting(required: Flask) -> None:
    client = required.test_client()
    signup_and_token(client)
    auth = signup_and_token(client, "page@example.org")
    filed = _file(client, auth, application_body())
    web_login(required, client, "page@example.org", "correct horse battery")
    page = client.get(f"/applications/{filed['id']}").get_data(as_text=True)
    assert filed["identity"]["code"] in page
    assert "No agency is asked anything about you" in page


def test_an_unknown_proofing_mode_stops_the_start(app_config: dict[str, Any]) -> None:
    app_config["IDENTITY_PROOFING"] = "optional"
    with pytest.raises(ConfigError, match="IPC_IDENTITY_PROOFING"):
        create_app(app_config)
