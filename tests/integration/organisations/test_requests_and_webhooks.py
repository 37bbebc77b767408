"""Requests to candidates, consented sharing, and webhooks verified with `standardwebhooks`."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from standardwebhooks import Webhook as StandardWebhook

from certificate.db import db, utcnow
from certificate.issuance.revocation import revoke
from certificate.notifications import outbox
from certificate.notifications.models import OutboxMessage
from certificate.notifications.service import due_message_ids
from tests.conftest import application_body, drain, signup_and_token
from tests.integration.organisations.test_organisations import (
    _last_line,
    _member,
    _organisation,
    _token,
)
from tests.webhook_receiver import webhook_receiver


@pytest.fixture
def build_app(build_app: Callable[..., Flask]) -> Callable[..., Flask]:
    """Webhooks to loopback addresses allowed and retries fast, unless a test says otherwise."""

    def build(**settings: Any) -> Flask:
        return build_app(
            **{"WEBHOOK_ALLOW_PRIVATE": True, "OUTBOX_RETRY_SCALE": 0.0001, **settings}
        )

    return build


def _deliver_due(app: Flask) -> int:
    with app.app_context():
        due = due_message_ids(db.session, utcnow())
        db.session.rollback()
    return sum(1 for message_id in due if outbox(app).deliver_now(message_id))


def test_the_employer_asks_sees_the_answer_hears_of_revocation_and_loses_it_on_stop(
    build_app: Callable[..., Flask],
) -> None:
    app = build_app()
    client = app.test_client()
    org = _organisation(app)
    _member(app, "hr@stc.example", "employer", org)
    employer = _token(client, "hr@stc.example")
    key = _last_line(app.test_cli_runner().invoke(args=["organisations", "api-key", org]).output)
    with webhook_receiver() as receiver:
        created = client.post(
            "/api/v1/webhooks",
            json={
                "url": receiver.url,
                "events": ["certificate.revoked", "request.shared", "request.stopped"],
            },
            headers=employer,
        )
        assert created.status_code == 201, created.get_json()
        secret = created.get_json()["secret"]
        assert secret.startswith("whsec_")

        asked = client.post(
            "/api/v1/requests",
            json={"email": "Ada@Example.org", "purpose": "Teacher, Nairobi"},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert asked.status_code == 201, asked.get_json()
        request_id = asked.get_json()["id"]
        assert asked.get_json()["link"].endswith(f"/requests/{request_id}")
        with app.app_context():
            mail = db.session.scalars(
                select(OutboxMessage).where(OutboxMessage.topic == "candidate_request")
            ).one()
            assert mail.recipient == "ada@example.org"
            assert request_id in (mail.body or "")

        candidate = signup_and_token(client, "ada@example.org")
        filed = client.post("/api/v1/applications", json=application_body(), headers=candidate)
        drain(app)
        listed = client.get("/api/v1/requests", headers=employer).get_json()["requests"]
        assert [(r["id"], r["status"], r["certificate"]) for r in listed] == [
            (request_id, "sent", None)
        ]
        someone = signup_and_token(client, "mallory@example.org")
        stolen = client.post(
            f"/api/v1/requests/{request_id}/share",
            json={"application_id": filed.get_json()["id"]},
            headers=someone,
        )
        assert stolen.status_code == 404
        shared = client.post(
            f"/api/v1/requests/{request_id}/share",
            json={"application_id": filed.get_json()["id"]},
            headers=candidate,
        )
        assert shared.status_code == 200
        listed = client.get(
            "/api/v1/requests", headers={"Authorization": f"Bearer {key}"}
        ).get_json()["requests"]
        answer = listed[0]["certificate"]
        assert (listed[0]["status"], answer["status"], answer["authentic"]) == (
            "shared",
            "valid",
            True,
        )
        assert answer["summary"]["countries"] == 3

        with app.app_context():
            number = answer["certificate"]["jti"]
            revoke(db.session, number, reason="Issued in error", actor="operator", now=utcnow())
            db.session.commit()
        receiver.failing = True
        _deliver_due(app)
        first_ids = {d.headers["webhook-id"] for d in receiver.deliveries}
        assert receiver.accepted() == []
        receiver.failing = False
        for _ in range(30):
            _deliver_due(app)
            if len(receiver.accepted()) >= 2:
                break
        events = {}
        verifier = StandardWebhook(secret)
        for delivery in receiver.accepted():
            payload = verifier.verify(delivery.body, delivery.headers)
            events[payload["type"]] = (delivery.headers["webhook-id"], payload)
        assert set(events) == {"request.shared", "certificate.revoked"}
        revoked_id, revoked = events["certificate.revoked"]
        assert revoked["data"] == {
            "request_id": request_id,
            "certificate_id": number,
            "status": "revoked",
        }
        assert revoked_id in first_ids  # the retry carried the first attempt's id
        assert len({d.headers["webhook-id"] for d in receiver.accepted()}) == len(
            receiver.accepted()
        )

        stopped = client.delete(f"/api/v1/requests/{request_id}/share", headers=candidate)
        assert stopped.status_code == 200
        listed = client.get("/api/v1/requests", headers=employer).get_json()["requests"]
        assert (listed[0]["status"], listed[0]["certificate"]) == ("stopped", None)
        assert "Okafor" not in json.dumps(listed)
        _deliver_due(app)
        last = StandardWebhook(secret).verify(
            receiver.accepted()[-1].body, receiver.accepted()[-1].headers
        )
        assert last["type"] == "request.stopped"

    # a revoked key stops at once
    with app.app_context():
        from certificate.organisations.models import ApiKey

        key_id = db.session.scalars(select(ApiKey.id)).one()
    assert (
        client.delete(
            f"/api/v1/organisations/{org}/api-keys/{key_id}", headers=employer
        ).status_code
        == 204
    )
    assert (
        client.get("/api/v1/requests", headers={"Authorization": f"Bearer {key}"}).status_code
        == 401
    )
    assert client.get("/api/v1/requests").status_code == 401


def test_webhooks_to_private_addresses_are_refused(build_app: Callable[..., Flask]) -> None:
    app = build_app(WEBHOOK_ALLOW_PRIVATE=False)
    client = app.test_client()
    org = _organisation(app)
    _member(app, "hr@stc.example", "employer", org)
    employer = _token(client, "hr@stc.example")
    for url in ("https://127.0.0.1/hook", "https://10.1.2.3/hook", "http://example.org/hook"):
        response = client.post(
            "/api/v1/webhooks",
            json={"url": url, "events": ["certificate.revoked"]},
            headers=employer,
        )
        assert response.status_code == 400, url
        assert "url" in response.get_json()["error"]["fields"]
    bad_event = client.post(
        "/api/v1/webhooks",
        json={"url": "https://127.0.0.1/x", "events": ["nope"]},
        headers=employer,
    )
    assert bad_event.status_code == 400
    with app.app_context():
        assert db.session.scalars(select(OutboxMessage)).all() == []


def test_the_candidate_shares_and_stops_from_the_page(build_app: Callable[..., Flask]) -> None:
    from tests.conftest import web_login

    app = build_app(WTF_CSRF_ENABLED=False)
    client = app.test_client()
    org = _organisation(app)
    _member(app, "hr@stc.example", "employer", org)
    employer = _token(client, "hr@stc.example")
    request_id = client.post(
        "/api/v1/requests",
        json={"email": "ada@example.org", "purpose": "Teacher"},
        headers=employer,
    ).get_json()["id"]
    candidate = signup_and_token(client, "ada@example.org")
    filed = client.post(
        "/api/v1/applications", json=application_body(), headers=candidate
    ).get_json()
    page = app.test_client()
    web_login(app, page, "ada@example.org", "correct horse battery")
    shown = page.get(f"/requests/{request_id}").get_data(as_text=True)
    assert "Save the Children Kenya asks for your certificate" in shown
    assert (
        page.post(f"/requests/{request_id}/share", data={"application_id": filed["id"]}).status_code
        == 303
    )
    listed = client.get("/api/v1/requests", headers=employer).get_json()["requests"]
    assert listed[0]["status"] == "shared"
    assert page.post(f"/requests/{request_id}/stop").status_code == 303
    listed = client.get("/api/v1/requests", headers=employer).get_json()["requests"]
    assert (listed[0]["status"], listed[0]["certificate"]) == ("stopped", None)
