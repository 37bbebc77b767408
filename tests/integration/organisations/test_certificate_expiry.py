"""``certificate.expired``: announced once per certificate by the sweeper, for shared requests."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from standardwebhooks import Webhook as StandardWebhook

from certificate import create_app
from certificate.db import db, utcnow
from certificate.issuance.models import Certificate
from certificate.notifications import outbox
from certificate.notifications.models import OutboxMessage
from certificate.notifications.service import due_message_ids
from certificate.periodic import periodic_tasks
from tests.conftest import application_body, drain, signup_and_token
from tests.integration.organisations.test_organisations import _member, _organisation, _token
from tests.webhook_receiver import webhook_receiver


class Clock:
    """The service's clock where expiry is decided and webhooks are sent (real until set)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now: datetime | None = None
        for module in ("certificate.issuance.tasks", "certificate.notifications.sender"):
            monkeypatch.setattr(f"{module}.utcnow", lambda: self.now or utcnow())


def _announce(app: Flask) -> None:
    """Run the periodic task as the sweeper does: found by its registered name."""
    (task,) = [t for t in periodic_tasks(app) if t.name == "issuance.announce_expiries"]
    with app.app_context():
        task.run()


def _expiry_deliveries(app: Flask) -> list[OutboxMessage]:
    with app.app_context():
        rows = list(
            db.session.scalars(
                select(OutboxMessage).where(OutboxMessage.topic == "certificate.expired")
            )
        )
        db.session.expunge_all()
        return rows


def test_an_expiry_is_announced_once_to_the_organisations_it_is_shared_with(
    app_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    app_config.update({"WEBHOOK_ALLOW_PRIVATE": True})
    app = create_app(app_config)
    with app.app_context():
        db.drop_all()
        db.create_all()
    clock = Clock(monkeypatch)
    client = app.test_client()
    org = _organisation(app)
    _member(app, "hr@stc.example", "employer", org)
    employer = _token(client, "hr@stc.example")

    candidate = signup_and_token(client, "ada@example.org")
    shared = client.post("/api/v1/applications", json=application_body(), headers=candidate)
    kept = client.post("/api/v1/applications", json=application_body("Mensah"), headers=candidate)
    drain(app)
    with app.app_context():
        certificates = {
            c.application_id: (c.id, c.expires_at) for c in db.session.scalars(select(Certificate))
        }
    shared_id, expires_at = certificates[shared.get_json()["id"]]
    kept_id, _ = certificates[kept.get_json()["id"]]

    with webhook_receiver() as receiver:
        hook = client.post(
            "/api/v1/webhooks",
            json={"url": receiver.url, "events": ["certificate.expired"]},
            headers=employer,
        )
        assert hook.status_code == 201, hook.get_json()
        secret = hook.get_json()["secret"]
        asked = client.post(
            "/api/v1/requests",
            json={"email": "ada@example.org", "purpose": "Teacher"},
            headers=employer,
        )
        request_id = asked.get_json()["id"]
        assert (
            client.post(
                f"/api/v1/requests/{request_id}/share",
                json={"application_id": shared.get_json()["id"]},
                headers=candidate,
            ).status_code
            == 200
        )

        clock.now = expires_at - timedelta(minutes=1)
        _announce(app)
        assert _expiry_deliveries(app) == []

        clock.now = expires_at + timedelta(minutes=1)
        _announce(app)
        _announce(app)  # the next sweep: nothing new
        (delivery,) = _expiry_deliveries(app)
        assert json.loads(delivery.body or "")["data"] == {
            "request_id": request_id,
            "certificate_id": shared_id,
            "status": "expired",
        }
        with app.app_context():
            marked = {c.id: c.expiry_announced_at for c in db.session.scalars(select(Certificate))}
        # both certificates are marked announced; only the shared one reached the employer
        assert marked == {shared_id: clock.now, kept_id: clock.now}

        with app.app_context():
            due = due_message_ids(db.session, clock.now)
            db.session.rollback()
        assert delivery.id in due
        assert outbox(app).deliver_now(delivery.id)
        (received,) = receiver.accepted()

    headers = received.headers
    assert headers["webhook-id"] == delivery.id
    timestamp = datetime.fromtimestamp(int(headers["webhook-timestamp"]), clock.now.tzinfo)
    assert timestamp == clock.now.replace(microsecond=0)
    # the signature, as the standardwebhooks package computes it for this id, time and body
    expected = StandardWebhook(secret).sign(delivery.id, timestamp, received.body.decode())
    assert headers["webhook-signature"] == expected
    assert json.loads(received.body)["type"] == "certificate.expired"


def test_a_revoked_or_superseded_certificate_is_not_announced_as_expired(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(monkeypatch)
    client = app.test_client()
    candidate = signup_and_token(client, "ada@example.org")
    client.post("/api/v1/applications", json=application_body(), headers=candidate)
    drain(app)
    with app.app_context():
        certificate = db.session.scalars(select(Certificate)).one()
        certificate.revoked_at = certificate.issued_at + timedelta(days=1)
        expires_at = certificate.expires_at
        db.session.commit()
    clock.now = expires_at + timedelta(days=1)
    _announce(app)
    with app.app_context():
        assert db.session.scalars(select(Certificate.expiry_announced_at)).one() is None
