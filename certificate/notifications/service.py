"""Writing messages to the outbox, and delivering them with retries.

``enqueue_*`` add a row in the caller's transaction, so a message exists
exactly when the event that causes it was committed. :func:`deliver` claims
one due row (a lease, as checks have), delivers it outside any transaction,
then marks it sent or schedules the next attempt: nothing is lost when a
server is down or a worker dies, and nothing delivered is sent twice.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import or_, select

from certificate.db import DbSession
from certificate.notifications.messages import render
from certificate.notifications.models import Channel, OutboxMessage

#: Seconds between a failed attempt and the next, by attempt number (then the last, repeated):
#: the first two retries come within a minute, later ones back off to four hours.
RETRY_SCHEDULE = (5.0, 20.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0)
LEASE = timedelta(minutes=2)


class DeliveryError(Exception):
    """One attempt failed; the message is tried again later."""


@dataclass(frozen=True)
class Envelope:
    """What a transport needs of one message, read before the claim is committed."""

    id: str
    channel: str
    topic: str
    recipient: str
    language: str
    subject: str
    body: str
    attempts: int
    created_at: datetime


class Transport(Protocol):
    """Carries one channel's messages (mail, webhooks)."""

    def deliver(self, envelope: Envelope, now: datetime) -> None:
        """Deliver one message or raise DeliveryError."""
        ...


@dataclass(frozen=True)
class OutboxSettings:
    """How long to keep trying, and how fast (``scale`` < 1 in tests)."""

    scale: float = 1.0
    #: a webhook is given up after this long; an e-mail never is (it waits for the server)
    webhook_retry_for: timedelta = timedelta(hours=26)


def retry_delay(attempt: int, scale: float = 1.0) -> float:
    """Seconds before the next attempt after failed attempt number ``attempt`` (1-based), jittered."""
    base = RETRY_SCHEDULE[min(max(attempt, 1), len(RETRY_SCHEDULE)) - 1] * scale
    return random.uniform(base * 0.8, base)  # noqa: S311 - jitter, not secrecy


def enqueue_mail(
    session: DbSession,
    *,
    to: str,
    topic: str,
    language: str,
    now: datetime,
    **values: Any,
) -> OutboxMessage:
    """Write the ``topic`` e-mail to ``to`` in ``language``; it is sent after the commit."""
    subject, body = render(topic, language, **values)
    message = OutboxMessage(
        channel=Channel.MAIL.value,
        topic=topic,
        recipient=to,
        language=language,
        subject=subject,
        body=body,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(message)
    return message


def link(path: str) -> str:
    """An absolute link into the service (``IPC_BASE_URL`` + ``path``) for a message."""
    return f"{current_app.config['BASE_URL']}{path}"


def enqueue_webhook(
    session: DbSession, *, endpoint_id: str, event_type: str, body: str, now: datetime
) -> OutboxMessage:
    """Write one webhook delivery; ``body`` is the exact JSON sent (and signed) on every attempt."""
    message = OutboxMessage(
        channel=Channel.WEBHOOK.value,
        topic=event_type,
        recipient=endpoint_id,
        subject="",
        body=body,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(message)
    return message


def due_message_ids(session: DbSession, now: datetime, limit: int = 200) -> list[str]:
    """Messages waiting for an attempt that no live sender holds, oldest first."""
    return list(
        session.scalars(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.sent_at.is_(None),
                OutboxMessage.gave_up_at.is_(None),
                OutboxMessage.next_attempt_at <= now,
                or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until <= now),
            )
            .order_by(OutboxMessage.next_attempt_at)
            .limit(limit)
        )
    )


def claim(session: DbSession, message_id: str, now: datetime) -> OutboxMessage | None:
    """Take a due message for one attempt, or None when it is not due or someone holds it."""
    message = session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.gave_up_at.is_(None),
            OutboxMessage.next_attempt_at <= now,
            or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until <= now),
        )
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).first()
    if message is None:
        return None
    message.lease_until = now + LEASE
    message.attempts += 1
    return message


def record_outcome(
    message: OutboxMessage,
    error: str | None,
    *,
    now: datetime,
    settings: OutboxSettings,
) -> None:
    """Mark the attempt: sent, or the next attempt scheduled, or (webhooks, after long) given up."""
    message.lease_until = None
    if error is None:
        message.sent_at = now
        message.next_attempt_at = None
        message.last_error = None
        return
    message.last_error = error[:500]
    retry_at = now + timedelta(seconds=retry_delay(message.attempts, settings.scale))
    if (
        message.channel == Channel.WEBHOOK.value
        and retry_at > message.created_at + settings.webhook_retry_for
    ):
        message.gave_up_at = now
        message.next_attempt_at = None
        return
    message.next_attempt_at = retry_at


def deliver(
    session_factory: Callable[[], DbSession],
    message_id: str,
    transports: Mapping[str, Transport],
    *,
    now: Callable[[], datetime],
    settings: OutboxSettings,
) -> bool:
    """One attempt at one message; True when it was delivered now.

    The claim is committed before the transport is called, so a slow server
    never holds a database lock, and the outcome is committed after.
    """
    session = session_factory()
    message = claim(session, message_id, now())
    if message is None:
        session.rollback()
        return False
    envelope = Envelope(
        id=message.id,
        channel=message.channel,
        topic=message.topic,
        recipient=message.recipient,
        language=message.language,
        subject=message.subject,
        body=message.body or "",
        attempts=message.attempts,
        created_at=message.created_at,
    )
    session.commit()
    transport = transports.get(envelope.channel)
    error: str | None = None
    try:
        if transport is None:
            raise DeliveryError(f"no transport for {envelope.channel}")
        transport.deliver(envelope, now())
    except DeliveryError as exc:
        error = str(exc) or type(exc).__name__
    fresh = session.get(OutboxMessage, message_id, populate_existing=True, with_for_update=True)
    if fresh is None:  # pragma: no cover - rows are never deleted while unsent
        session.rollback()
        return False
    record_outcome(fresh, error, now=now(), settings=settings)
    session.commit()
    return error is None
