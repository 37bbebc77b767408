"""The audit trail: an append-only, hash-chained log of who did what, when and why.

Each event's hash covers its content and the previous event's hash, so an
edited or deleted event breaks the chain from that point on.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, select, text
from sqlalchemy.orm import Mapped, mapped_column

from certificate.db import Base, DbSession, UTCDateTime, utcnow

GENESIS = "0" * 64


class AuditEvent(Base):
    """One thing that happened to sensitive data."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))  # "user:<id>", "system", "agency:<id>"
    action: Mapped[str] = mapped_column(String(60))
    subject_type: Mapped[str] = mapped_column(String(30))
    subject_id: Mapped[str] = mapped_column(String(64), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # unique: two events can never follow the same one, so the chain cannot fork
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


def _digest(
    prev_hash: str,
    at: datetime,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    details: dict[str, Any],
) -> str:
    body = json.dumps(
        [prev_hash, at.isoformat(), actor, action, subject_type, subject_id, details],
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


def record_event(
    session: DbSession,
    *,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Append an event in the caller's transaction. ``details`` must hold no record content."""
    at = (at or utcnow()).replace(microsecond=0)
    details = details or {}
    if session.get_bind().dialect.name == "postgresql":
        # serialise writers on the chain's head for the rest of this transaction
        session.execute(text("SELECT pg_advisory_xact_lock(4242)"))
    last = session.execute(
        select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar_one_or_none()
    prev_hash = last or GENESIS
    event = AuditEvent(
        at=at,
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        details=details,
        prev_hash=prev_hash,
        hash=_digest(prev_hash, at, actor, action, subject_type, subject_id, details),
    )
    session.add(event)
    session.flush()
    return event


def verify_chain(session: DbSession) -> list[str]:
    """Walk the log in order; return a description of every break (empty when intact)."""
    problems: list[str] = []
    expected_prev = GENESIS
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        if event.prev_hash != expected_prev:
            problems.append(f"event {event.id}: previous event missing or changed")
        digest = _digest(
            event.prev_hash,
            event.at,
            event.actor,
            event.action,
            event.subject_type,
            event.subject_id,
            event.details,
        )
        if digest != event.hash:
            problems.append(f"event {event.id}: content changed")
        expected_prev = event.hash
    return problems
