"""Personal data is purged when its lifetime ends; verification still answers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select

from certificate.agency.models import CheckQuestion
from certificate.applications.models import Application, Residence
from certificate.db import db, utcnow
from certificate.issuance.models import Certificate
from tests.conftest import application_body, drain


@pytest.fixture
def issued(app: Flask, client: FlaskClient, auth: dict[str, str]) -> dict[str, Any]:
    body = application_body("RECORDHOLDER")
    created = client.post("/api/v1/applications", json=body, headers=auth).get_json()
    drain(app)
    result = client.get(f"/api/v1/applications/{created['id']}", headers=auth).get_json()
    result["token"] = result["certificate"]["verify_url"].split("#", 1)[1]
    result["pdf"] = client.get(result["certificate"]["pdf_url"], headers=auth).data
    return result


def _purge(runner: FlaskCliRunner) -> str:
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    return str(result.output)


def test_nothing_is_purged_before_its_time(
    app: Flask, runner: FlaskCliRunner, issued: dict[str, Any]
) -> None:
    validity = timedelta(days=app.config["CERTIFICATE_VALIDITY_DAYS"])
    retention = timedelta(days=app.config["RETENTION_DAYS_AFTER_EXPIRY"])
    with time_machine.travel(utcnow() + validity + retention - timedelta(days=1), tick=False):
        assert "of 0 application" in _purge(runner)
    with app.app_context():
        assert db.session.scalars(select(Application)).one().family_name == "RECORDHOLDER"


def test_after_expiry_and_retention_the_personal_data_is_gone(
    app: Flask,
    client: FlaskClient,
    runner: FlaskCliRunner,
    auth: dict[str, str],
    issued: dict[str, Any],
) -> None:
    validity = timedelta(days=app.config["CERTIFICATE_VALIDITY_DAYS"])
    retention = timedelta(days=app.config["RETENTION_DAYS_AFTER_EXPIRY"])
    later = utcnow() + validity + retention + timedelta(days=1)
    with time_machine.travel(later, tick=False):
        assert "of 1 application" in _purge(runner)
        with app.app_context():
            application = db.session.scalars(select(Application)).one()
            assert application.purged_at is not None
            assert (application.family_name, application.given_names) == ("", "")
            assert application.date_of_birth is None
            assert application.document_number is None
            assert all(check.records == [] for check in application.checks)
            assert db.session.scalar(select(func.count()).select_from(Residence)) == 0
            assert db.session.scalar(select(func.count()).select_from(CheckQuestion)) == 0
            certificate = db.session.scalars(select(Certificate)).one()
            assert certificate.token is None
            assert certificate.token_mac is None
            assert certificate.holder_date_of_birth is None
            assert certificate.pdf_sha256  # kept: an upload can still be checked
        # verification still answers, from what remains
        by_token = client.post("/api/v1/verify", json={"token": issued["token"]}).get_json()
        assert by_token["status"] == "expired"
        typed = client.post(
            "/api/v1/verify",
            json={"certificate_id": issued["certificate"]["id"], "date_of_birth": "1990-04-17"},
        )
        assert typed.get_json()["status"] == "expired"
        assert typed.get_json()["certificate"] is None  # nothing personal is left to show
        wrong = client.post(
            "/api/v1/verify",
            json={"certificate_id": issued["certificate"]["id"], "date_of_birth": "1990-04-18"},
        )
        assert wrong.get_json()["status"] == "unknown"
        import io

        upload = client.post(
            "/api/v1/verify",
            data={"file": (io.BytesIO(issued["pdf"]), "c.pdf")},
            content_type="multipart/form-data",
        )
        assert upload.get_json()["status"] == "expired"
        # the holder's own view no longer serves the document
        fresh = client.post(
            "/api/v1/tokens", json={"email": "ada@example.org", "password": "correct horse battery"}
        )
        auth = {"Authorization": f"Bearer {fresh.get_json()['access_token']}"}
        pdf = client.get(issued["certificate"]["pdf_url"], headers=auth)
        assert pdf.status_code == 410
        assert "RECORDHOLDER" not in client.get(
            f"/api/v1/applications/{issued['id']}", headers=auth
        ).get_data(as_text=True)


def test_a_withdrawn_application_is_purged_after_its_retention(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, auth: dict[str, str]
) -> None:
    created = client.post(
        "/api/v1/applications", json=application_body("SILENT"), headers=auth
    ).get_json()
    drain(app)
    withdrawn = client.post(f"/api/v1/applications/{created['id']}/withdraw", headers=auth)
    assert withdrawn.status_code == 200
    assert withdrawn.get_json()["status"] == "withdrawn"
    again = client.post(f"/api/v1/applications/{created['id']}/withdraw", headers=auth)
    assert again.status_code == 409
    drain(app)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Certificate)) == 0
    days = app.config["RETENTION_DAYS_AFTER_WITHDRAWAL"]
    with time_machine.travel(utcnow() + timedelta(days=days + 1), tick=False):
        assert "of 1 application" in _purge(runner)
    with app.app_context():
        application = db.session.scalars(select(Application)).one()
        assert application.family_name == ""
        assert application.document_number is None
