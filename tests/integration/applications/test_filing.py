"""Filing through the API: validation, idempotency, ownership, and what each sandbox name yields."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

from certificate.applications.models import Application
from certificate.audit import AuditEvent, verify_chain
from certificate.checks.models import Check
from certificate.db import db
from certificate.issuance.claims import CODE_OUTCOMES, OUTCOME_LETTERS
from tests.conftest import application_body, drain, signup_and_token


def _count(app: Flask, model: Any) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def _with(path: str, value: Any) -> dict[str, Any]:
    body = application_body()
    target: Any = body
    *parents, last = path.split(".")
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if value is _DELETE:
        del target[int(last) if last.isdigit() else last]
    else:
        target[int(last) if last.isdigit() else last] = value
    return body


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "field", "words"),
    [
        ("residences.0.country", "XK1", "residences.0.country", "ISO 3166-1"),
        ("residences.0.country", "ZZ", "residences.0.country", "ISO 3166-1"),
        ("applicant.nationalities", ["NG", "Nigeria"], "applicant.nationalities.1", "ISO 3166-1"),
        ("applicant.place_of_birth.country", "ng", "applicant.place_of_birth.country", "ISO"),
        ("residences.0.to", "2010-01", "residences.0.to", "before the period starts"),
        ("residences.1.from", "2999-01", "residences.1.from", "future"),
        ("residences.0.to", "2999-01", "residences.0.to", "future"),
        ("residences.0.from", "2012-13", "residences.0.from", "YYYY-MM"),
        ("applicant.date_of_birth", "17/04/1990", "applicant.date_of_birth", "date"),
        ("applicant.date_of_birth", "2999-01-01", "applicant.date_of_birth", "past"),
        ("applicant.family_name", "", "applicant.family_name", "at least 1"),
        (
            "applicant.identity_document.expires",
            "2001-01-01",
            "applicant.identity_document.expires",
            "expired",
        ),
        (
            "applicant.identity_document.type",
            "library_card",
            "applicant.identity_document.type",
            "passport",
        ),
        ("consent", False, "consent", "consent"),
        ("language", "de", "language", "'en'"),
        ("residences", [], "residences", "at least 1"),
        ("purpose", _DELETE, "purpose", "required"),
        ("status", "complete", "status", "not a field"),
    ],
)
def test_bad_input_is_refused_naming_the_field(
    app: Flask,
    client: FlaskClient,
    auth: dict[str, str],
    path: str,
    value: Any,
    field: str,
    words: str,
) -> None:
    response = client.post("/api/v1/applications", json=_with(path, value), headers=auth)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_request"
    assert field in error["fields"], error
    assert words in error["fields"][field]
    assert field in error["message"]
    assert _count(app, Application) == 0
    assert _count(app, Check) == 0


def test_malformed_bodies_are_clear_4xx(client: FlaskClient, auth: dict[str, str]) -> None:
    not_json = client.post(
        "/api/v1/applications", data="{", headers=auth, content_type="application/json"
    )
    assert not_json.status_code == 400
    assert not_json.get_json()["error"]["code"] == "invalid_json"
    wrong_type = client.post(
        "/api/v1/applications", data="x", headers=auth, content_type="text/plain"
    )
    assert wrong_type.status_code == 415
    array = client.post("/api/v1/applications", json=[1, 2], headers=auth)
    assert array.status_code == 400


def test_overlapping_periods_are_accepted(client: FlaskClient, auth: dict[str, str]) -> None:
    body = application_body()
    body["residences"].append({"country": "KE", "from": "2015-01", "to": "2017-01"})
    response = client.post("/api/v1/applications", json=body, headers=auth)
    assert response.status_code == 201
    assert [c["country"] for c in response.get_json()["checks"]] == ["KE", "TH", "NG"]


def test_idempotency_key_returns_the_same_application(
    app: Flask, client: FlaskClient, auth: dict[str, str]
) -> None:
    headers = {**auth, "Idempotency-Key": "filing-1"}
    first = client.post("/api/v1/applications", json=application_body(), headers=headers)
    again = client.post("/api/v1/applications", json=application_body(), headers=headers)
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]
    assert _count(app, Application) == 1
    other = client.post("/api/v1/applications", json=application_body("Mensah"), headers=headers)
    assert other.status_code == 422
    assert other.get_json()["error"]["fields"] == {
        "Idempotency-Key": "was used for a different request body"
    }
    assert _count(app, Application) == 1


def test_only_the_owner_sees_an_application(
    app: Flask, client: FlaskClient, auth: dict[str, str]
) -> None:
    created = client.post("/api/v1/applications", json=application_body(), headers=auth)
    app_id = created.get_json()["id"]
    drain(app)
    pdf_url = client.get(f"/api/v1/applications/{app_id}", headers=auth).get_json()["certificate"][
        "pdf_url"
    ]
    intruder = signup_and_token(client, "mallory@example.org")
    assert client.get(f"/api/v1/applications/{app_id}", headers=intruder).status_code == 404
    assert client.get(pdf_url, headers=intruder).status_code == 404
    assert client.get("/api/v1/applications", headers=intruder).get_json() == {"applications": []}
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic x"}):
        assert client.get(f"/api/v1/applications/{app_id}", headers=headers).status_code == 401
        assert client.get(pdf_url, headers=headers).status_code == 401
        assert client.get("/api/v1/applications", headers=headers).status_code == 401
    assert client.post("/api/v1/applications", json=application_body()).status_code == 401


def test_reading_an_application_leaves_the_checks_records_sealed(
    app: Flask, client: FlaskClient, auth: dict[str, str]
) -> None:
    """A client polling its application (every check's status) reads no check's records:
    they are sealed, kilobytes each, and the answer does not carry them."""
    body = application_body()
    body["residences"] = [
        {"country": c, "from": f"20{10 + i}-01", "to": f"20{10 + i}-12"}
        for i, c in enumerate(["KE", "TH", "NG", "GB"])
    ]
    app_id = client.post("/api/v1/applications", json=body, headers=auth).get_json()["id"]
    drain(app)
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        answer = client.get(f"/api/v1/applications/{app_id}", headers=auth).get_json()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert [c["status"] for c in answer["checks"]] == ["answered"] * 4
    assert answer["certificate"] is not None
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert any("checks.outcome" in s for s in reads)
    assert not any("checks.records" in s for s in reads)


def test_accounts_and_tokens_refuse_bad_input(client: FlaskClient) -> None:
    short = client.post(
        "/api/v1/accounts", json={"email": "a@example.org", "password": "short", "name": "A"}
    )
    assert short.status_code == 400
    assert "password" in short.get_json()["error"]["fields"]
    bad_email = client.post(
        "/api/v1/accounts", json={"email": "nope", "password": "x" * 12, "name": "A"}
    )
    assert "email" in bad_email.get_json()["error"]["fields"]
    signup_and_token(client, "ada@example.org")
    again = client.post(
        "/api/v1/accounts", json={"email": "ADA@example.org", "password": "y" * 12, "name": "A"}
    )
    assert again.status_code == 201  # a taken address is answered like a new one
    assert set(again.get_json()) == {"id", "email"}
    wrong = client.post("/api/v1/tokens", json={"email": "ada@example.org", "password": "no"})
    unknown = client.post("/api/v1/tokens", json={"email": "who@example.org", "password": "no"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()


def _certificate_for(
    app: Flask, client: FlaskClient, auth: dict[str, str], family_name: str
) -> dict[str, Any]:
    created = client.post(
        "/api/v1/applications", json=application_body(family_name), headers=auth
    ).get_json()
    drain(app)
    return client.get(f"/api/v1/applications/{created['id']}", headers=auth).get_json()


@pytest.mark.parametrize(
    ("family_name", "outcome", "code"),
    [
        ("Okafor", "no_record", "NR"),
        ("RECORDS", "record_found", "RF"),
        ("NOMATCH", "identity_unconfirmed", "IU"),
        ("FLAKY", "no_record", "NR"),
    ],
)
def test_each_sandbox_rule_reaches_the_certificate(
    app: Flask,
    client: FlaskClient,
    auth: dict[str, str],
    family_name: str,
    outcome: str,
    code: str,
) -> None:
    result = _certificate_for(app, client, auth, family_name)
    assert result["status"] == "complete"
    assert {c["outcome"] for c in result["checks"]} == {outcome}
    verdict = client.post(
        "/api/v1/verify", json={"token": result["certificate"]["verify_url"].split("#", 1)[1]}
    )
    claims = verdict.get_json()["certificate"]
    assert claims["c"] == OUTCOME_LETTERS[outcome] + "KETHNG"
    assert CODE_OUTCOMES[code] == outcome
    assert claims["spc"] is True


def test_flaky_is_retried_before_it_answers(
    app: Flask, client: FlaskClient, auth: dict[str, str]
) -> None:
    _certificate_for(app, client, auth, "FLAKY")
    with app.app_context():
        checks = db.session.scalars(select(Check)).all()
        assert {c.attempts for c in checks} == {3}
        retries = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "check.retry_scheduled")
        ).all()
        assert len(retries) == 2 * len(checks)
        assert verify_chain(db.session) == []


@pytest.fixture
def short_deadline(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["CHECK_DEADLINE_SECONDS"] = 1
    return app_config


@pytest.mark.usefixtures("short_deadline")
def test_silent_agency_ends_not_answered(
    app: Flask, client: FlaskClient, auth: dict[str, str]
) -> None:
    body = application_body("SILENT")
    body["residences"].append({"country": "NZ", "from": "2001-01", "to": "2002-01"})
    created = client.post("/api/v1/applications", json=body, headers=auth).get_json()
    drain(app)
    pending = client.get(f"/api/v1/applications/{created['id']}", headers=auth).get_json()
    assert pending["status"] == "in_progress"
    assert {c["status"] for c in pending["checks"]} == {"sent", "not_covered"}
    time.sleep(1.1)
    drain(app)
    done = client.get(f"/api/v1/applications/{created['id']}", headers=auth).get_json()
    assert done["status"] == "complete"
    assert {c["country"]: c["status"] for c in done["checks"]} == {
        "KE": "no_response",
        "TH": "no_response",
        "NG": "no_response",
        "NZ": "not_covered",
    }
    assert all(c["outcome"] is None for c in done["checks"])
    token = done["certificate"]["verify_url"].split("#", 1)[1]
    claims = client.post("/api/v1/verify", json={"token": token}).get_json()["certificate"]
    assert claims["c"] == "aKETHNGcNZ"


def test_issuance_happens_once(app: Flask, client: FlaskClient, auth: dict[str, str]) -> None:
    from certificate.issuance.models import Certificate
    from certificate.jobs import issue_for

    result = _certificate_for(app, client, auth, "Okafor")
    for _ in range(3):
        with app.app_context():
            issue_for(result["id"])
    drain(app)
    assert _count(app, Certificate) == 1
