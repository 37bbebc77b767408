"""Webhooks: signed as Standard Webhooks sign them, delivered from the outbox with retries.

Each delivery's outbox id is its ``webhook-id``, the same on every retry, so
a receiver recognises a repeat. Only ``https`` URLs on public addresses are
accepted (and delivered to), unless ``IPC_WEBHOOK_ALLOW_PRIVATE=true``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit

import httpx
from flask import Flask
from sqlalchemy import select

from certificate.audit import record_event
from certificate.db import DbSession, db
from certificate.events import subscribe
from certificate.i18n import N_
from certificate.issuance.models import Certificate
from certificate.notifications import add_transport
from certificate.notifications.models import Channel
from certificate.notifications.service import DeliveryError, Envelope, enqueue_webhook
from certificate.organisations.models import CandidateRequest, Organisation, RequestStatus, Webhook
from certificate.organisations.service import OrganisationError

EVENTS = (
    "certificate.issued",
    "certificate.revoked",
    "certificate.superseded",
    "certificate.expired",
    "request.shared",
    "request.stopped",
)
SECRET_PREFIX = "whsec_"


def check_url(url: str, *, allow_private: bool) -> None:
    """OrganisationError (field ``url``) unless ``url`` may receive webhooks."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise OrganisationError("url", N_("must be an https URL"))
    if allow_private:
        return
    if parts.scheme != "https":
        raise OrganisationError("url", N_("must be an https URL"))
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise OrganisationError("url", N_("names a host that does not resolve")) from exc
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]))
        if not address.is_global:
            raise OrganisationError("url", N_("points at a private, loopback or reserved address"))


def new_secret() -> str:
    """A fresh signing secret in the Standard Webhooks form (``whsec_`` + base64)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def create_webhook(
    session: DbSession,
    organisation: Organisation,
    *,
    url: str,
    events: list[str],
    allow_private: bool,
    actor: str,
    now: datetime,
) -> Webhook:
    """Register an endpoint for some events; its secret is returned once, in the row."""
    check_url(url, allow_private=allow_private)
    unknown = sorted(set(events) - set(EVENTS))
    if not events or unknown:
        raise OrganisationError("events", f"must be some of {', '.join(EVENTS)}")
    webhook = Webhook(
        organisation_id=organisation.id,
        url=url,
        secret=new_secret(),
        events=sorted(set(events)),
        created_at=now,
    )
    session.add(webhook)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="webhook.created",
        subject_type="organisation",
        subject_id=organisation.id,
        details={"webhook": webhook.id, "events": webhook.events},
        at=now,
    )
    return webhook


class WebhookNotFound(Exception):
    """No such webhook of this organisation."""


def organisation_webhooks(session: DbSession, organisation_id: str) -> list[Webhook]:
    """The organisation's endpoints that still receive events, newest first."""
    return list(
        session.scalars(
            select(Webhook)
            .where(Webhook.organisation_id == organisation_id, Webhook.disabled_at.is_(None))
            .order_by(Webhook.created_at.desc(), Webhook.id)
        )
    )


def disable_webhook(
    session: DbSession, organisation_id: str, webhook_id: str, *, actor: str, now: datetime
) -> Webhook:
    """Stop sending events to an endpoint of the organisation, at once (again: no change).

    Deliveries still in the outbox are never sent to it: each attempt fails until the
    outbox gives up on them.
    """
    webhook = session.get(Webhook, webhook_id)
    if webhook is None or webhook.organisation_id != organisation_id:
        raise WebhookNotFound(webhook_id)
    if webhook.disabled_at is None:
        webhook.disabled_at = now
        record_event(
            session,
            actor=actor,
            action="webhook.disabled",
            subject_type="organisation",
            subject_id=organisation_id,
            details={"webhook": webhook.id},
            at=now,
        )
    return webhook


def sign(secret: str, message_id: str, timestamp: int, body: str) -> str:
    """The ``webhook-signature`` header: ``v1,`` + base64 HMAC-SHA256 of ``id.timestamp.body``."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{message_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def _body(
    event: str, now: datetime, request: CandidateRequest, certificate_id: str | None, status: str
) -> str:
    return json.dumps(
        {
            "type": event,
            "timestamp": now.isoformat().replace("+00:00", "Z"),
            "data": {"request_id": request.id, "certificate_id": certificate_id, "status": status},
        },
        separators=(",", ":"),
    )


def _announce_to(
    session: DbSession,
    request: CandidateRequest,
    event: str,
    certificate_id: str | None,
    status: str,
    now: datetime,
) -> None:
    hooks = session.scalars(
        select(Webhook).where(Webhook.organisation_id == request.organisation_id)
    )
    for hook in hooks:
        if hook.wants(event):
            enqueue_webhook(
                session,
                endpoint_id=hook.id,
                event_type=event,
                body=_body(event, now, request, certificate_id, status),
                now=now,
            )


def _certificate_event(event: str) -> Callable[..., None]:
    def handler(session: DbSession, *, certificate: Certificate, now: datetime) -> None:
        shared = session.scalars(
            select(CandidateRequest).where(
                CandidateRequest.application_id == certificate.application_id,
                CandidateRequest.status == RequestStatus.SHARED.value,
            )
        )
        for request in shared:
            _announce_to(
                session, request, event, certificate.id, certificate.status_at(now).value, now
            )

    return handler


def _request_event(event: str) -> Callable[..., None]:
    def handler(session: DbSession, *, request: CandidateRequest, now: datetime) -> None:
        application = request.application
        current = application.current_certificate if application is not None else None
        _announce_to(session, request, event, current.id if current else None, request.status, now)

    return handler


class WebhookTransport:
    """POSTs a delivery, signed, to its endpoint; any non-2xx answer is tried again later."""

    def __init__(self, allow_private: bool, timeout: float = 10.0) -> None:
        self.allow_private = allow_private
        self.timeout = timeout

    def deliver(self, envelope: Envelope, now: datetime) -> None:
        """One attempt; DeliveryError on a refused URL, a network error or a non-2xx answer."""
        hook = db.session.get(Webhook, envelope.recipient)
        url, secret = (hook.url, hook.secret) if hook is not None else ("", "")
        db.session.rollback()  # no transaction held while the endpoint answers
        if hook is None:
            raise DeliveryError("the webhook was deleted")
        if hook.disabled_at is not None:
            raise DeliveryError("the webhook was disabled")
        try:
            check_url(url, allow_private=self.allow_private)
        except OrganisationError as exc:
            raise DeliveryError(f"url {exc}") from exc
        timestamp = int(now.timestamp())
        headers = {
            "content-type": "application/json",
            "webhook-id": envelope.id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, envelope.id, timestamp, envelope.body),
        }
        try:
            response = httpx.post(
                url, content=envelope.body.encode(), headers=headers, timeout=self.timeout
            )
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
        if not 200 <= response.status_code < 300:
            raise DeliveryError(f"the endpoint answered {response.status_code}")


def init_webhooks(app: Flask) -> None:
    """Write a delivery for every event an organisation's webhooks asked for; deliver them."""
    for event in (
        "certificate.issued",
        "certificate.revoked",
        "certificate.superseded",
        "certificate.expired",
    ):
        subscribe(app, event, _certificate_event(event))
    for event in ("request.shared", "request.stopped"):
        subscribe(app, event, _request_event(event))
    add_transport(
        app,
        Channel.WEBHOOK.value,
        WebhookTransport(allow_private=bool(app.config["WEBHOOK_ALLOW_PRIVATE"])),
    )
