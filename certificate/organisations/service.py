"""Organisations: registering them, their API keys, and who may act for them."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select

from certificate.audit import record_event
from certificate.db import DbSession
from certificate.identity.verifiers import voucher_name_problem
from certificate.organisations.models import ApiKey, Organisation

KEY_PREFIX = "ipc_org_"
MAX_NAME = 200


class OrganisationError(ValueError):
    """A setting of an organisation is not acceptable; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class ApiKeyNotFound(Exception):
    """No such key of this organisation."""


def add_organisation(
    session: DbSession,
    *,
    name: str,
    short_name: str | None = None,
    domain: str | None = None,
    actor: str = "operator",
    now: datetime,
) -> Organisation:
    """Register an organisation. ``short_name`` (default: the name) is printed on the
    certificates its ID checkers vouch for, so it must fit the QR code (32 bytes)."""
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise OrganisationError("name", f"must be 1 to {MAX_NAME} characters")
    short = " ".join((short_name or name).split())
    problem = voucher_name_problem(short)
    if problem:
        raise OrganisationError("short-name", problem)
    organisation = Organisation(
        name=name, short_name=short, domain=(domain or "").strip().lower() or None, created_at=now
    )
    session.add(organisation)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="organisation.added",
        subject_type="organisation",
        subject_id=organisation.id,
        details={"name": name},
        at=now,
    )
    return organisation


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(
    session: DbSession, organisation: Organisation, *, name: str, actor: str, now: datetime
) -> tuple[ApiKey, str]:
    """A new API key: ``(row, key)``; the key itself is never stored, only its hash."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        organisation_id=organisation.id,
        name=" ".join(name.split())[:100],
        key_hash=_digest(key),
        created_by=actor,
        created_at=now,
    )
    session.add(row)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="organisation.api_key_created",
        subject_type="organisation",
        subject_id=organisation.id,
        details={"key": row.id},
        at=now,
    )
    return row, key


def revoke_api_key(
    session: DbSession, organisation_id: str, key_id: str, *, actor: str, now: datetime
) -> ApiKey:
    """Revoke a key of the organisation, effective at once (again: no change)."""
    row = session.get(ApiKey, key_id)
    if row is None or row.organisation_id != organisation_id:
        raise ApiKeyNotFound(key_id)
    if row.revoked_at is None:
        row.revoked_at = now
        record_event(
            session,
            actor=actor,
            action="organisation.api_key_revoked",
            subject_type="organisation",
            subject_id=organisation_id,
            details={"key": row.id},
            at=now,
        )
    return row


def organisation_for_key(session: DbSession, key: str, now: datetime) -> Organisation | None:
    """The organisation of a live API key (its last use recorded), or None."""
    if not key.startswith(KEY_PREFIX):
        return None
    row = session.scalars(select(ApiKey).where(ApiKey.key_hash == _digest(key))).first()
    if row is None or row.revoked_at is not None:
        return None
    row.last_used_at = now
    return row.organisation


def api_keys(session: DbSession, organisation_id: str) -> list[ApiKey]:
    """The organisation's keys, newest first."""
    return list(
        session.scalars(
            select(ApiKey)
            .where(ApiKey.organisation_id == organisation_id)
            .order_by(ApiKey.created_at.desc())
        )
    )
