"""Accounts: creating users, checking passwords, API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select

from certificate.audit import record_event
from certificate.auth.models import ApiToken, Role, User
from certificate.db import DbSession
from country_adapters.countries import is_country_code

# Argon2id with the library's defaults (RFC 9106 low-memory profile).
_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so both cases take as long.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

MIN_PASSWORD_LENGTH = 10


class AccountError(ValueError):
    """A field of a new account is not acceptable; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def normalise_email(email: str) -> str:
    """E-mail addresses are compared case-insensitively."""
    return email.strip().lower()


def create_user(
    session: DbSession,
    *,
    email: str,
    password: str,
    name: str,
    role: str = Role.APPLICANT.value,
    country: str | None = None,
) -> User:
    """Create an account; AccountError names the field that is wrong."""
    email = normalise_email(email)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if role not in {r.value for r in Role}:
        raise AccountError("role", "must be applicant, agency-officer or admin")
    if role == Role.AGENCY_OFFICER.value:
        if not country or not is_country_code(country):
            raise AccountError("country", "an agency officer needs the ISO code of their country")
    elif country:
        raise AccountError("country", "only agency officers belong to a country")
    taken = session.scalar(select(func.count()).select_from(User).where(User.email == email))
    if taken:
        raise AccountError("email", "is already registered")
    user = User(
        email=email,
        name=name.strip(),
        password_hash=_hasher.hash(password),
        role=role,
        country=country,
    )
    session.add(user)
    session.flush()
    record_event(
        session,
        actor=f"user:{user.id}",
        action="account.created",
        subject_type="user",
        subject_id=user.id,
        details={"role": role},
    )
    return user


def authenticate(session: DbSession, email: str, password: str) -> User | None:
    """The user with these credentials, or None; same work whether or not the e-mail exists."""
    user = session.scalars(select(User).where(User.email == normalise_email(email))).first()
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: DbSession, user: User, *, ttl: timedelta, now: datetime) -> str:
    """A new bearer token for ``user``; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            token_hash=_token_hash(token), user_id=user.id, created_at=now, expires_at=now + ttl
        )
    )
    session.execute(delete(ApiToken).where(ApiToken.user_id == user.id, ApiToken.expires_at <= now))
    return token


def user_for_token(session: DbSession, token: str, now: datetime) -> User | None:
    """The active user a live token belongs to, or None."""
    row = session.get(ApiToken, _token_hash(token))
    if row is None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.active else None
