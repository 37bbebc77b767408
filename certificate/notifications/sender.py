"""The sender: delivers due outbox rows on a small thread pool, or through Celery."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from urllib.parse import urlsplit

from flask import Flask

from certificate.db import db, utcnow
from certificate.notifications.mailer import Mailer, MailError, build_message
from certificate.notifications.service import (
    DeliveryError,
    Envelope,
    OutboxSettings,
    Transport,
    deliver,
    due_message_ids,
)

log = logging.getLogger(__name__)


class MailTransport:
    """E-mail through a Mailer (SMTP, or the log)."""

    def __init__(self, mailer: Mailer, sender: str, domain: str) -> None:
        self.mailer = mailer
        self.sender = sender
        self.domain = domain

    def deliver(self, envelope: Envelope, now: datetime) -> None:
        """Send one e-mail; DeliveryError when the server did not take it."""
        message = build_message(
            message_id=envelope.id,
            sender=self.sender,
            to=envelope.recipient,
            subject=envelope.subject,
            body=envelope.body,
            domain=self.domain,
        )
        try:
            self.mailer.send(message)
        except MailError as exc:
            raise DeliveryError(str(exc)) from exc


def mail_domain(base_url: str) -> str:
    """The host part of ``Message-ID`` headers: the service's own host name."""
    return urlsplit(base_url).hostname or "localhost"


class OutboxSender:
    """Delivers due messages of one app: each on a worker thread, one attempt at a time."""

    def __init__(
        self, app: Flask, transports: dict[str, Transport], settings: OutboxSettings, workers: int
    ) -> None:
        self.app = app
        self.transports = transports
        self.settings = settings
        self.workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._in_flight: set[str] = set()
        #: set when Celery workers deliver: a due message is enqueued for them instead
        self.enqueue: Callable[[str], object] | None = None

    def deliver_now(self, message_id: str) -> bool:
        """One attempt at one message, in the calling thread (Celery tasks, tests)."""
        with self.app.app_context():
            try:
                return deliver(
                    lambda: db.session,
                    message_id,
                    self.transports,
                    now=utcnow,
                    settings=self.settings,
                )
            finally:
                db.session.remove()

    def submit(self, message_id: str) -> None:
        """Deliver on the pool, unless an attempt at the same message is already queued here."""
        if self.enqueue is not None:
            self.enqueue(message_id)
            return
        with self._lock:
            if message_id in self._in_flight:
                return
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="ipc-outbox")
            self._in_flight.add(message_id)
        self._pool.submit(self._run, message_id)

    def _run(self, message_id: str) -> None:
        try:
            self.deliver_now(message_id)
        except Exception:
            log.exception("outbox message %s: attempt failed; it will be tried again", message_id)
        finally:
            with self._lock:
                self._in_flight.discard(message_id)

    def dispatch_due(self) -> list[str]:
        """Hand every due message to the pool (the sweeper calls this). Needs an app context."""
        due = due_message_ids(db.session, utcnow())
        db.session.rollback()
        for message_id in due:
            self.submit(message_id)
        return due

    def stop(self) -> None:
        """Wait for attempts under way."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
