"""The e-mail address check: a signed link, sent by e-mail, that proves the owner reads it."""

from __future__ import annotations

from datetime import datetime

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from certificate.audit import record_event
from certificate.auth.models import User
from certificate.db import DbSession
from certificate.notifications.service import enqueue_mail, link

SALT = "ipc-email-verification"
#: how long a link works (seconds)
MAX_AGE = 7 * 24 * 3600


class BadEmailLink(Exception):
    """The link is not one the service made, has expired, or is for another address."""


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=SALT)


def email_token(secret_key: str, user: User) -> str:
    """A token binding the account to its current address (a changed address voids it)."""
    return _serializer(secret_key).dumps({"u": user.id, "e": user.email})


def send_email_check(
    session: DbSession, user: User, *, secret_key: str, language: str, now: datetime
) -> None:
    """Write the e-mail that carries the verification link."""
    enqueue_mail(
        session,
        to=user.email,
        topic="email_verification",
        language=language,
        now=now,
        link=link(f"/email/verify/{email_token(secret_key, user)}"),
    )


def confirm_email(session: DbSession, token: str, *, secret_key: str, now: datetime) -> User:
    """Mark the address of the token's account verified (again: no change). BadEmailLink else."""
    try:
        data = _serializer(secret_key).loads(token, max_age=MAX_AGE)
    except (SignatureExpired, BadSignature) as exc:
        raise BadEmailLink(str(exc)) from exc
    user = session.get(User, str(data.get("u"))) if isinstance(data, dict) else None
    if user is None or not user.active or user.email != data.get("e"):
        raise BadEmailLink("no such account, or its address has changed")
    if user.email_verified_at is None:
        user.email_verified_at = now
        record_event(
            session,
            actor=f"user:{user.id}",
            action="account.email_verified",
            subject_type="user",
            subject_id=user.id,
            at=now,
        )
    return user
