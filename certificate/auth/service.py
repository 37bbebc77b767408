"""Accounts: creating users, checking passwords, API tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select

from certificate.audit import record_event
from certificate.auth.models import ORGANISATION_ROLES, ApiToken, Role, User
from certificate.db import DbSession, utcnow
from certificate.events import announce
from certificate.organisations.models import Organisation
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


class EmailTaken(AccountError):
    """The address already has an account. Sign-up answers a stranger exactly as for a
    new address (nothing is stored), so that it tells no one which addresses exist."""

    def __init__(self) -> None:
        super().__init__("email", "is already registered")


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
    language: str | None = None,
    email_verified: bool = False,
    organisation_id: str | None = None,
) -> User:
    """Create an account; AccountError names the field that is wrong.

    ``email_verified``: the address needs no check (an operator created the account).
    """
    email = normalise_email(email)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if role not in {r.value for r in Role}:
        raise AccountError(
            "role", "must be applicant, agency-officer, admin, employer or id-checker"
        )
    if role in ORGANISATION_ROLES:
        if not organisation_id or session.get(Organisation, organisation_id) is None:
            raise AccountError(
                "organisation", "an employer or ID checker needs an organisation's id"
            )
    elif organisation_id:
        raise AccountError("organisation", "only employers and ID checkers belong to one")
    if role == Role.AGENCY_OFFICER.value:
        if not country or not is_country_code(country):
            raise AccountError("country", "an agency officer needs the ISO code of their country")
    elif country:
        raise AccountError("country", "only agency officers belong to a country")
    password_hash = _hasher.hash(password)  # before the look-up: the same work either way
    taken = session.scalar(select(func.count()).select_from(User).where(User.email == email))
    if taken:
        raise EmailTaken()
    user = User(
        email=email,
        name=name.strip(),
        password_hash=password_hash,
        role=role,
        country=country,
        language=language,
        email_verified_at=utcnow() if email_verified else None,
        organisation_id=organisation_id,
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
    announce(session, "account.created", user=user, now=utcnow())
    return user


LOCK_AFTER_FAILURES = 5
LOCK_DURATION = timedelta(minutes=15)
SECOND_FACTOR_ROLES = frozenset({Role.AGENCY_OFFICER.value, Role.ADMIN.value})
TOTP_ISSUER = "International Police Certificate"


def authenticate(
    session: DbSession, email: str, password: str, now: datetime | None = None
) -> User | None:
    """The user whose password this is, or None.

    The same work is done whether or not the e-mail exists (a dummy hash is
    verified for unknown accounts), and a locked account answers exactly like a
    wrong password. Failures are counted: the caller commits even on None.

    For an account with a second factor the password is only the first step:
    a correct one resets nothing (only a correct code does, in
    :func:`verify_second_factor`), so wrong codes after a right password add
    up to the lock-out. A wrong password does not count towards that lock:
    anyone can send one, and a stranger must not be able to lock an officer
    or admin out. Guessing their passwords is held back by the per-client
    throttle instead, and a right guess still needs the code, whose failures
    lock the account.
    """
    now = now or utcnow()
    user = session.scalars(select(User).where(User.email == normalise_email(email))).first()
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        correct = True
    except (VerificationError, InvalidHashError):
        correct = False
    if user is None:
        return None
    if user.locked_until is not None and user.locked_until > now:
        return None
    if not correct:
        if not needs_second_factor(user):
            register_failure(session, user, now)
        return None
    if not user.active:
        return None
    if not needs_second_factor(user):
        user.failed_logins = 0
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def register_failure(session: DbSession, user: User, now: datetime) -> None:
    """Count a failed password or code; lock the account after too many in a row."""
    user.failed_logins += 1
    if user.failed_logins >= LOCK_AFTER_FAILURES:
        user.failed_logins = 0
        user.locked_until = now + LOCK_DURATION
        record_event(
            session,
            actor=f"user:{user.id}",
            action="account.locked",
            subject_type="user",
            subject_id=user.id,
            at=now,
        )


def needs_second_factor(user: User) -> bool:
    """Officers and admins log in with a TOTP code as well as their password."""
    return user.role in SECOND_FACTOR_ROLES


def new_totp_secret() -> str:
    """A fresh base32 TOTP secret (160 bits)."""
    return pyotp.random_base32(32)


def totp_uri(user: User, secret: str) -> str:
    """The ``otpauth://`` URI an authenticator app scans."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=TOTP_ISSUER)


def check_totp(secret: str, code: str, now: datetime, last_step: int | None) -> int | None:
    """The time step ``code`` is valid for (±1 step of drift), or None.

    A step at or before ``last_step`` is refused, so a code is never accepted twice.
    """
    code = code.strip().replace(" ", "")
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // totp.interval
    for step in (current - 1, current, current + 1):
        expected = totp.generate_otp(step)
        if hmac.compare_digest(expected, code) and (last_step is None or step > last_step):
            return step
    return None


def verify_second_factor(
    session: DbSession, user: User, code: str, now: datetime, enrolling_secret: str | None = None
) -> bool:
    """Check a TOTP code (enrolling ``enrolling_secret`` when given); count failures."""
    secret = enrolling_secret or user.totp_secret
    locked = user.locked_until is not None and user.locked_until > now
    step = check_totp(secret, code, now, user.totp_last_step) if secret else None
    if step is None or locked:
        if not locked:
            register_failure(session, user, now)
        return False
    if enrolling_secret:
        user.totp_secret = enrolling_secret
        record_event(
            session,
            actor=f"user:{user.id}",
            action="account.totp_enrolled",
            subject_type="user",
            subject_id=user.id,
            at=now,
        )
    user.totp_last_step = step
    user.failed_logins = 0
    return True


def end_sessions(session: DbSession, user: User) -> None:
    """End every session and API token of ``user``."""
    user.session_epoch += 1
    session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))


def disable_user(session: DbSession, user: User, *, actor: str) -> None:
    """Disable an account: it can no longer log in, and its sessions and tokens end now."""
    user.active = False
    end_sessions(session, user)
    record_event(
        session, actor=actor, action="account.disabled", subject_type="user", subject_id=user.id
    )


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
