"""E-mail through the outbox: a real SMTP server on loopback, an outage, the log."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from certificate.db import db, utcnow
from certificate.notifications import outbox
from certificate.notifications.models import OutboxMessage
from certificate.notifications.service import due_message_ids
from tests.conftest import application_body, drain, signup_and_token
from tests.mail import Inbox, body_of, free_port, smtp_server


def _deliver_all(app: Flask) -> int:
    """One delivery attempt at every due message, in this thread; how many were delivered."""
    with app.app_context():
        due = due_message_ids(db.session, utcnow())
        db.session.rollback()
    sender = outbox(app)
    return sum(1 for message_id in due if sender.deliver_now(message_id))


def _unsent(app: Flask) -> int:
    with app.app_context():
        count = db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
        )
        return int(count or 0)


def test_a_new_account_gets_its_address_check_and_the_link_releases_the_application(
    build_app: Callable[..., Flask],
) -> None:
    with smtp_server() as inbox:
        app = build_app(
            IDENTITY_PROOFING="required",
            SMTP_URL=f"smtp://127.0.0.1:{inbox.port}",  # type: ignore[attr-defined]
            MAIL_FROM="IPC <no-reply@ipc.test>",
        )
        client = app.test_client()
        auth = signup_and_token(client, "ada@example.org")
        assert _deliver_all(app) == 1
        (message,) = inbox.wait_for("ada@example.org")
        assert message["From"] == "IPC <no-reply@ipc.test>"
        assert message["Subject"] == "Confirm your e-mail address"
        link = re.search(r"http://ipc\.test(/email/verify/\S+)", body_of(message))
        assert link is not None

        filed = client.post("/api/v1/applications", json=application_body(), headers=auth)
        assert filed.get_json()["status"] == "awaiting_identity"
        page = client.get(link.group(1))
        assert page.status_code == 200
        assert "Your e-mail address is verified" in page.get_data(as_text=True)
        # verified, but the identity is not confirmed yet: still held
        again = client.get(f"/api/v1/applications/{filed.get_json()['id']}", headers=auth)
        assert again.get_json()["status"] == "awaiting_identity"
        assert client.get("/email/verify/not-a-token").status_code == 400


def test_an_smtp_outage_delays_messages_and_never_doubles_them(
    build_app: Callable[..., Flask],
) -> None:
    port = free_port()
    app = build_app(
        IDENTITY_PROOFING="required",
        SMTP_URL=f"smtp://127.0.0.1:{port}",
        SMTP_TIMEOUT_SECONDS=2,
        OUTBOX_RETRY_SCALE=0.001,
    )
    client = app.test_client()
    for n in range(3):
        signup_and_token(client, f"person{n}@example.org")
    assert _deliver_all(app) == 0  # nobody listens: every attempt fails
    assert _unsent(app) == 3
    with app.app_context():
        errors = db.session.scalars(select(OutboxMessage.last_error)).all()
    assert all(errors)
    inbox = Inbox()
    with smtp_server(port, inbox):
        for _ in range(50):
            _deliver_all(app)
            if _unsent(app) == 0:
                break
        for n in range(3):
            inbox.wait_for(f"person{n}@example.org")
        for _ in range(3):  # the sender keeps running: nothing is sent again
            assert _deliver_all(app) == 0
    assert len(inbox.messages) == 3
    assert len({m["Message-ID"] for m in inbox.messages}) == 3


def test_without_smtp_messages_are_written_to_the_log(
    app: Flask, client: Any, auth: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    filed = client.post("/api/v1/applications", json=application_body(), headers=auth).get_json()
    drain(app)
    mail_log = logging.getLogger("certificate.mail")
    mail_log.addHandler(caplog.handler)  # whatever earlier apps did to propagation
    try:
        with caplog.at_level(logging.INFO, logger="certificate.mail"):
            assert _deliver_all(app) == 1
    finally:
        mail_log.removeHandler(caplog.handler)
    logged = caplog.text
    assert "To: ada@example.org" in logged
    assert "Your International Police Certificate is ready" in logged
    assert f"/applications/{filed['id']}" in logged


def test_issued_revoked_and_question_messages_reach_the_holder(
    build_app: Callable[..., Flask],
) -> None:
    from certificate.issuance.revocation import revoke

    with smtp_server() as inbox:
        app = build_app(SMTP_URL=f"smtp://127.0.0.1:{inbox.port}")  # type: ignore[attr-defined]
        client = app.test_client()
        auth = signup_and_token(client, "holder@example.org")
        body = application_body()
        body["language"] = "fr"
        filed = client.post("/api/v1/applications", json=body, headers=auth).get_json()
        drain(app)
        done = client.get(f"/api/v1/applications/{filed['id']}", headers=auth).get_json()
        number = done["certificate"]["id"]
        with app.app_context():
            revoke(db.session, number, reason="Issued in error", actor="operator", now=utcnow())
            db.session.commit()
        assert _deliver_all(app) == 2
        issued, revoked = inbox.wait_for("holder@example.org", 2)
        assert number in body_of(issued)
        assert number in body_of(revoked)
        assert "revoked" in revoked["Subject"].lower() or "révoqu" in revoked["Subject"].lower()
        assert "Issued in error" not in body_of(revoked)  # the reason stays behind the log-in
