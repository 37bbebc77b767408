"""Mailers: SMTP when ``IPC_SMTP_URL`` is set, the log otherwise."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from typing import Protocol
from urllib.parse import unquote, urlsplit

log = logging.getLogger("certificate.mail")


class MailError(Exception):
    """The message could not be handed over; trying again later may help."""


class Mailer(Protocol):
    """Hands one message to whatever carries e-mail."""

    def send(self, message: EmailMessage) -> None:
        """Deliver ``message`` or raise MailError."""
        ...


def build_message(
    *, message_id: str, sender: str, to: str, subject: str, body: str, domain: str
) -> EmailMessage:
    """A plain-text e-mail whose ``Message-ID`` is the outbox row's id (the same on a retry)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = f"<{message_id}@{domain}>"
    message.set_content(body)
    return message


class SmtpMailer:
    """SMTP from a URL: ``smtp://[user:password@]host[:port]`` (STARTTLS when offered),
    ``smtps://...`` (TLS from the start)."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("must look like smtp://host:port or smtps://user:password@host:port")
        self.tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.tls else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout

    def send(self, message: EmailMessage) -> None:
        """Connect, authenticate if configured, send, close; MailError on any failure."""
        try:
            client: smtplib.SMTP
            if self.tls:
                client = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with client:
                client.ehlo()
                if not self.tls and client.has_extn("starttls"):
                    client.starttls(context=ssl.create_default_context())
                    client.ehlo()
                if self.user is not None:
                    client.login(self.user, self.password or "")
                client.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"{type(exc).__name__}: {exc}") from exc


class LogMailer:
    """No SMTP server configured: each message is written to the log, whole."""

    def send(self, message: EmailMessage) -> None:
        """Log the message (``make run`` shows it in the terminal)."""
        log.info(
            "e-mail (IPC_SMTP_URL is not set, so it is shown here instead of sent)\n"
            "To: %s\nSubject: %s\n\n%s",
            message["To"],
            message["Subject"],
            message.get_content().strip(),
        )
