"""Metrics and structured logs: useful to operators, and free of personal data."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import application_body, drain


def test_metrics_count_checks_and_issuance(
    app: Flask, client: FlaskClient, auth: dict[str, str]
) -> None:
    client.post("/api/v1/applications", json=application_body("UNIQUECANARY"), headers=auth)
    before = client.get("/metrics").get_data(as_text=True)
    assert 'ipc_checks{country="KE",status="queued"} 1.0' in before
    drain(app)
    after = client.get("/metrics").get_data(as_text=True)
    assert 'ipc_checks{country="KE",status="answered"} 1.0' in after
    assert "ipc_certificates_issued_total" in after
    assert 'ipc_agency_answer_seconds_count{country="KE"}' in after
    client.post("/api/v1/verify", json={"token": "not.a.token"})
    scraped = client.get("/metrics").get_data(as_text=True)
    assert 'ipc_verifications_total{method="token",status="invalid"}' in scraped
    assert 'ipc_verification_seconds_count{method="token"}' in scraped
    assert "UNIQUECANARY" not in after
    assert "1990-04-17" not in after


@pytest.fixture
def restore_logging() -> Any:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("restore_logging")
def test_json_logs_name_routes_not_urls(
    app_config: dict[str, Any], make_app: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    app_config["LOG_FORMAT"] = "json"
    app = make_app(app_config)
    from certificate.db import db

    with app.app_context():
        db.create_all()
    client = app.test_client()
    client.post(
        "/api/v1/verify", json={"certificate_id": "CANARY-NUMBER", "date_of_birth": "1977-07-07"}
    )
    client.get("/api/v1/applications/some-secret-id")
    lines = [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")
    ]
    requests = [line for line in lines if line.get("logger") == "ipc.request"]
    assert {r["route"] for r in requests} >= {
        "/api/v1/verify",
        "/api/v1/applications/<application_id>",
    }
    text = json.dumps(lines)
    assert "CANARY" not in text
    assert "1977-07-07" not in text
    assert "some-secret-id" not in text
