"""Organisations, their members and keys; identity confirmed in person by an ID checker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from certificate.db import db, utcnow
from certificate.identity.email_check import confirm_email, email_token
from certificate.organisations.service import organisation_for_key
from tests.conftest import application_body, drain, signup_and_token

PASSWORD = "a long enough password"


@pytest.fixture
def required(app_config: dict[str, Any], make_app: Callable[[dict[str, Any]], Flask]) -> Flask:
    app_config["IDENTITY_PROOFING"] = "required"
    app = make_app(app_config)
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


def _last_line(output: str) -> str:
    return output.strip().splitlines()[-1]


def _organisation(app: Flask, name: str = "Save the Children Kenya") -> str:
    result = app.test_cli_runner().invoke(
        args=["organisations", "add", "--name", name, "--short-name", "STC Kenya"]
    )
    assert result.exit_code == 0, result.output
    return _last_line(result.output)


def _member(app: Flask, email: str, role: str, organisation: str) -> None:
    result = app.test_cli_runner().invoke(
        args=[
            "users",
            "create",
            "--email",
            email,
            "--password",
            PASSWORD,
            "--role",
            role,
            "--organisation",
            organisation,
        ]
    )
    assert result.exit_code == 0, result.output


def _token(client: FlaskClient, email: str) -> dict[str, str]:
    response = client.post("/api/v1/tokens", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


def _verify_email(app: Flask, email: str) -> None:
    from sqlalchemy import select

    from certificate.auth.models import User

    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == email)).one()
        confirm_email(
            db.session, email_token("test-secret", user), secret_key="test-secret", now=utcnow()
        )
        db.session.commit()


def test_an_id_checker_confirms_in_person_and_only_then_agencies_are_asked(required: Flask) -> None:
    org = _organisation(required)
    _member(required, "checker@stc.example", "id-checker", org)
    client = required.test_client()
    applicant = signup_and_token(client, "ada@example.org")
    _verify_email(required, "ada@example.org")
    filed = client.post("/api/v1/applications", json=application_body(), headers=applicant)
    application = filed.get_json()
    code = application["identity"]["code"]
    assert application["status"] == "awaiting_identity"

    checker = _token(client, "checker@stc.example")
    seen = {"type": "passport", "number": "A1234567", "issuing_country": "NG"}
    wrong = client.post(
        "/api/v1/identity-checks",
        json={
            "code": code,
            "decision": "confirmed",
            "documents_seen": [{**seen, "number": "B7654321"}],
        },
        headers=checker,
    )
    assert wrong.status_code == 409
    assert wrong.get_json()["error"]["code"] == "document_mismatch"
    assert "documents_seen" in wrong.get_json()["error"]["fields"]
    held = client.get(f"/api/v1/applications/{application['id']}", headers=applicant).get_json()
    assert (held["status"], held["identity"]["status"]) == ("awaiting_identity", "pending")

    # only an ID checker may decide, and only about a real pending code
    denied = client.post(
        "/api/v1/identity-checks",
        json={"code": code, "decision": "confirmed", "documents_seen": [seen]},
        headers=applicant,
    )
    assert denied.status_code == 403
    unknown = client.post(
        "/api/v1/identity-checks",
        json={"code": "ZZZZZZZZ", "decision": "confirmed", "documents_seen": [seen]},
        headers=checker,
    )
    assert unknown.status_code == 404

    ok = client.post(
        "/api/v1/identity-checks",
        json={"code": code.lower(), "decision": "confirmed", "documents_seen": [seen]},
        headers=checker,
    )
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json()["status"] == "confirmed"
    assert ok.get_json()["organisation"] == "Save the Children Kenya"
    again = client.post(
        "/api/v1/identity-checks",
        json={"code": code, "decision": "confirmed", "documents_seen": [seen]},
        headers=checker,
    )
    assert again.status_code == 409

    drain(required)
    done = client.get(f"/api/v1/applications/{application['id']}", headers=applicant).get_json()
    assert done["status"] == "complete"
    assert done["identity"]["method"] == "in_person"
    token = done["certificate"]["verify_url"].split("#", 1)[1]
    claims = client.post("/api/v1/verify", json={"token": token}).get_json()["certificate"]
    assert claims["idm"] == "in_person"
    assert "idb" not in claims  # who vouched is printed on the certificate, not in the QR code


def test_confirmed_identity_still_waits_for_the_email_address(required: Flask) -> None:
    org = _organisation(required)
    _member(required, "checker@stc.example", "id-checker", org)
    client = required.test_client()
    applicant = signup_and_token(client, "late@example.org")
    application = client.post(
        "/api/v1/applications", json=application_body(), headers=applicant
    ).get_json()
    seen = {"type": "passport", "number": "A 123 4567", "issuing_country": "NG"}
    response = client.post(
        "/api/v1/identity-checks",
        json={
            "code": application["identity"]["code"],
            "decision": "confirmed",
            "documents_seen": [seen],
        },
        headers=_token(client, "checker@stc.example"),
    )
    assert response.status_code == 200
    drain(required)
    held = client.get(f"/api/v1/applications/{application['id']}", headers=applicant).get_json()
    assert held["status"] == "awaiting_identity"
    assert {c["status"] for c in held["checks"]} == {"queued"}
    with required.app_context():
        from sqlalchemy import select

        from certificate.auth.models import User

        user = db.session.scalars(select(User).where(User.email == "late@example.org")).one()
        link = f"/email/verify/{email_token('test-secret', user)}"
    assert client.get(link).status_code == 200
    drain(required)
    done = client.get(f"/api/v1/applications/{application['id']}", headers=applicant).get_json()
    assert done["status"] == "complete"


def test_a_refusal_ends_the_application(required: Flask) -> None:
    org = _organisation(required)
    _member(required, "checker@stc.example", "id-checker", org)
    client = required.test_client()
    applicant = signup_and_token(client, "someone@example.org")
    application = client.post(
        "/api/v1/applications", json=application_body(), headers=applicant
    ).get_json()
    response = client.post(
        "/api/v1/identity-checks",
        json={"code": application["identity"]["code"], "decision": "refused", "documents_seen": []},
        headers=_token(client, "checker@stc.example"),
    )
    assert response.status_code == 200
    assert response.get_json()["status"] == "refused"
    drain(required)
    ended = client.get(f"/api/v1/applications/{application['id']}", headers=applicant).get_json()
    assert ended["status"] == "identity_refused"
    assert {c["status"] for c in ended["checks"]} == {"queued"}


def test_api_keys_are_shown_once_hashed_and_revocable(app: Flask, client: FlaskClient) -> None:
    org = _organisation(app)
    other = _organisation(app, "Another NGO")
    _member(app, "boss@stc.example", "employer", org)
    _member(app, "boss@other.example", "employer", other)
    result = app.test_cli_runner().invoke(args=["organisations", "api-key", org, "--name", "HR"])
    assert result.exit_code == 0
    cli_key = _last_line(result.output)
    employer = _token(client, "boss@stc.example")
    created = client.post(
        f"/api/v1/organisations/{org}/api-keys", json={"name": "ATS"}, headers=employer
    )
    assert created.status_code == 201
    key = created.get_json()["key"]
    with app.app_context():
        from sqlalchemy import select

        from certificate.organisations.models import ApiKey

        stored = db.session.scalars(select(ApiKey.key_hash)).all()
        assert key not in stored
        assert cli_key not in stored
        found = organisation_for_key(db.session, key, utcnow())
        assert found is not None
        assert found.id == org
        db.session.commit()
        row = db.session.get(ApiKey, created.get_json()["id"])
        assert row is not None
        assert row.last_used_at is not None
    intruder = _token(client, "boss@other.example")
    assert client.post(f"/api/v1/organisations/{org}/api-keys", headers=intruder).status_code == 404
    key_id = created.get_json()["id"]
    assert (
        client.delete(
            f"/api/v1/organisations/{org}/api-keys/{key_id}", headers=intruder
        ).status_code
        == 404
    )
    assert (
        client.delete(
            f"/api/v1/organisations/{org}/api-keys/{key_id}", headers=employer
        ).status_code
        == 204
    )
    with app.app_context():
        assert organisation_for_key(db.session, key, utcnow()) is None
        assert organisation_for_key(db.session, cli_key, utcnow()) is not None


def test_members_need_an_organisation(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=[
            "users",
            "create",
            "--email",
            "x@example.org",
            "--password",
            PASSWORD,
            "--role",
            "employer",
        ]
    )
    assert result.exit_code != 0
    assert "--organisation" in result.output
    org = _organisation(app)
    result = app.test_cli_runner().invoke(
        args=[
            "users",
            "create",
            "--email",
            "y@example.org",
            "--password",
            PASSWORD,
            "--organisation",
            org,
        ]
    )
    assert result.exit_code != 0  # an applicant belongs to no organisation
