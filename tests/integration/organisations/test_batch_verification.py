"""Batch verification for organisations: 1,000 items in order, an API key or nothing."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import application_body, drain
from tests.integration.organisations.test_organisations import _last_line, _organisation


def test_a_thousand_items_in_order_and_only_with_a_live_key(
    app: Flask, client: FlaskClient, auth: dict[str, str]
) -> None:
    filed = client.post("/api/v1/applications", json=application_body(), headers=auth).get_json()
    drain(app)
    certificate = client.get(f"/api/v1/applications/{filed['id']}", headers=auth).get_json()[
        "certificate"
    ]
    token = certificate["verify_url"].split("#", 1)[1]
    org = _organisation(app)
    key = _last_line(app.test_cli_runner().invoke(args=["organisations", "api-key", org]).output)
    kinds = [
        {"token": token},
        {"certificate_id": certificate["id"], "date_of_birth": "1990-04-17"},
        {"certificate_id": certificate["id"], "date_of_birth": "1991-01-01"},
        {"token": token[:-4] + "AAAA"},
    ]
    items = [kinds[i % 4] for i in range(1000)]
    expected = ["valid", "valid", "unknown", "invalid"]
    headers = {"Authorization": f"Bearer {key}"}

    response = client.post("/api/v1/verify/batch", json={"items": items}, headers=headers)
    assert response.status_code == 200, response.get_json()
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == [expected[i % 4] for i in range(1000)]
    assert results[0]["summary"]["countries"] == 3
    assert results[0]["authentic"] is True

    assert client.post("/api/v1/verify/batch", json={"items": items[:2]}).status_code == 401
    wrong = {"Authorization": "Bearer ipc_org_not-a-key"}
    assert (
        client.post("/api/v1/verify/batch", json={"items": items[:2]}, headers=wrong).status_code
        == 401
    )
    too_many = client.post(
        "/api/v1/verify/batch", json={"items": items + items[:1]}, headers=headers
    )
    assert too_many.status_code == 400
    bad = client.post(
        "/api/v1/verify/batch", json={"items": [kinds[0], {"certificate_id": "X"}]}, headers=headers
    )
    assert bad.status_code == 400
    assert "items.1.date_of_birth" in bad.get_json()["error"]["fields"]

    from sqlalchemy import select

    from certificate.db import db
    from certificate.organisations.models import ApiKey

    with app.app_context():
        key_id = db.session.scalars(select(ApiKey.id)).one()
    revoked = app.test_cli_runner().invoke(args=["organisations", "revoke-key", org, key_id])
    assert revoked.exit_code == 0
    assert (
        client.post("/api/v1/verify/batch", json={"items": items[:2]}, headers=headers).status_code
        == 401
    )
