"""The contract's applicant journey through the JSON API, in process."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import application_body, drain


def test_file_complete_and_download(app: Flask, client: FlaskClient, auth: dict[str, str]) -> None:
    response = client.post("/api/v1/applications", json=application_body(), headers=auth)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert [c["country"] for c in body["checks"]] == ["KE", "TH", "NG"]
    assert {c["status"] for c in body["checks"]} == {"queued"}
    drain(app)
    body = client.get(f"/api/v1/applications/{body['id']}", headers=auth).get_json()
    assert body["status"] == "complete"
    assert [c["outcome"] for c in body["checks"]] == ["no_record"] * 3
    pdf = client.get(body["certificate"]["pdf_url"], headers=auth)
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF-")
