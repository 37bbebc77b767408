"""Audit finding 11 on the applicant's side: consent is the JSON value true, and a date is
a calendar date, never a datetime or a timestamp."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from certificate.applications.models import Application
from certificate.db import db
from tests.conftest import application_body


def _file(client: FlaskClient, auth: dict[str, str], body: dict[str, Any]) -> Any:
    return client.post("/api/v1/applications", json=body, headers=auth)


def _applications(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(Application)) or 0)


@pytest.mark.parametrize("consent", ["true", 1, "1", "yes", "on", 1.0])
def test_consent_must_be_the_json_value_true(
    app: Flask, client: FlaskClient, auth: dict[str, str], consent: Any
) -> None:
    response = _file(client, auth, application_body(consent=consent))
    assert response.status_code == 400, response.get_json()
    assert "consent" in response.get_json()["error"]["fields"]
    assert _applications(app) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("date_of_birth", "1990-04-17T00:00:00"),
        ("date_of_birth", "1990-04-17T00:00:00Z"),
        ("date_of_birth", "1990-04-17 00:00"),
        ("date_of_birth", 640310400),
        ("date_of_birth", "19900417"),
        ("date_of_birth", "1990-4-17"),
        ("identity_document.expires", "2031-01-01T00:00:00"),
    ],
)
def test_a_date_written_as_anything_but_yyyy_mm_dd_is_refused(
    app: Flask, client: FlaskClient, auth: dict[str, str], field: str, value: Any
) -> None:
    body = application_body()
    target = body["applicant"]
    *parents, name = field.split(".")
    for parent in parents:
        target = target[parent]
    target[name] = value
    response = _file(client, auth, body)
    assert response.status_code == 400, response.get_json()
    error = response.get_json()["error"]
    assert f"applicant.{field}" in error["fields"], error
    assert "YYYY-MM-DD" in error["fields"][f"applicant.{field}"]
    assert _applications(app) == 0


def test_the_strict_types_still_take_a_correct_filing(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    response = _file(client, auth, application_body(consent=True))
    assert response.status_code == 201, response.get_json()
