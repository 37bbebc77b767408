"""Notifications: the outbox, e-mail (SMTP or the log) and the sender.

Other features write messages with :func:`certificate.notifications.service.enqueue_mail`
(or ``enqueue_webhook``) in their own transaction, and may add a transport
for a channel of their own with :func:`add_transport`.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, current_app

from certificate.celery_engine import CELERY_KEY
from certificate.config import ConfigError
from certificate.notifications.mailer import LogMailer, Mailer, SmtpMailer
from certificate.notifications.models import Channel
from certificate.notifications.sender import MailTransport, OutboxSender, mail_domain
from certificate.notifications.service import OutboxSettings, Transport
from certificate.notifications.subscribers import subscribe_all
from certificate.periodic import add_periodic_task

EXTENSION_KEY = "ipc.outbox"


def init_app(app: Flask) -> None:
    """The mailer from ``IPC_SMTP_URL`` (else the log) and the outbox sender."""
    config = app.config
    mailer: Mailer
    if config.get("SMTP_URL"):
        try:
            mailer = SmtpMailer(
                str(config["SMTP_URL"]), timeout=float(config["SMTP_TIMEOUT_SECONDS"])
            )
        except ValueError as exc:
            raise ConfigError(f"IPC_SMTP_URL {exc}") from exc
    else:
        mailer = LogMailer()
    sender_address = str(config.get("MAIL_FROM") or f"no-reply@{mail_domain(config['BASE_URL'])}")
    transports: dict[str, Transport] = {
        Channel.MAIL.value: MailTransport(mailer, sender_address, mail_domain(config["BASE_URL"]))
    }
    settings = OutboxSettings(
        scale=float(config["OUTBOX_RETRY_SCALE"]),
        webhook_retry_for=timedelta(hours=float(config["WEBHOOK_RETRY_HOURS"])),
    )
    subscribe_all(app)
    sender = OutboxSender(app, transports, settings, workers=int(config["OUTBOX_WORKERS"]))
    app.extensions[EXTENSION_KEY] = sender
    add_periodic_task(app, "notifications.dispatch", _dispatch_due)
    celery = app.extensions.get(CELERY_KEY)
    if celery is not None:  # Celery workers deliver; the web process only enqueues

        @celery.task(name="ipc.deliver_message")
        def deliver_task(message_id: str) -> None:
            sender.deliver_now(message_id)

        sender.enqueue = deliver_task.delay


def add_transport(app: Flask, channel: str, transport: Transport) -> None:
    """Let ``channel``'s messages be delivered by ``transport``."""
    outbox(app).transports[channel] = transport


def outbox(app: Flask | None = None) -> OutboxSender:
    """The app's outbox sender."""
    sender: OutboxSender = (app or current_app).extensions[EXTENSION_KEY]
    return sender


def _dispatch_due() -> None:
    """The sweeper's turn: hand due messages to the sender (without one, they wait)."""
    if current_app.config["JOBS_ENABLED"]:  # else (tests, commands) messages wait for a sender
        outbox().dispatch_due()
