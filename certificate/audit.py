"""The audit trail: an append-only, hash-chained, keyed log of who did what, when and why.

Each event's hash covers its content and the previous event's hash, so an
edited or deleted event breaks the chain from that point on. A SHA-256 chain
alone can be recomputed by anyone who can write to the database, so each
event also carries a MAC of its hash (HMAC-SHA256 with a data key, which
lives outside the database, named by its kid): a chain recomputed without the
key fails at its first rewritten event.

Checkpoints (:func:`checkpoint`) sign the log's size and head with the
service's signing key. A copy held outside the service (by an auditor, an
oversight body, another machine) detects what no key can: a truncated log,
or a chain rewritten by someone who had the keys. See
:func:`verify_against_checkpoint`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from sqlalchemy import Integer, String, func, select, text
from sqlalchemy.orm import Mapped, mapped_column

from certificate.db import Base, DbSession, UTCDateTime, utcnow
from certificate.encryption import EncryptedJSON, keyring

GENESIS = "0" * 64
_MAC_CONTEXT = b"ipc-audit-event.v1:"
_CHECKPOINT_CONTEXT = "ipc-audit-checkpoint.v1"


class AuditEvent(Base):
    """One thing that happened to sensitive data."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))  # "user:<id>", "system", "agency:<id>"
    action: Mapped[str] = mapped_column(String(60))
    subject_type: Mapped[str] = mapped_column(String(30))
    subject_id: Mapped[str] = mapped_column(String(64), index=True)
    # sealed (they name outcomes), padded so that an outcome's length does not show
    details: Mapped[dict[str, Any]] = mapped_column(
        EncryptedJSON("audit_events.details", block=128, minimum=256), default=dict
    )
    # unique: two events can never follow the same one, so the chain cannot fork
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # "kid:hex": HMAC-SHA256 of ``hash`` with the data key ``kid``; None only on
    # events written before the log was keyed
    mac: Mapped[str | None] = mapped_column(String(100))


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


def _mac(event_hash: str, kid: str) -> str:
    key = keyring().keys[kid]
    digest = hmac.new(key, _MAC_CONTEXT + event_hash.encode(), hashlib.sha256).hexdigest()
    return f"{kid}:{digest}"


def _mac_ok(event: AuditEvent) -> bool:
    kid = (event.mac or "").partition(":")[0]
    if kid not in keyring().keys:
        return False
    return hmac.compare_digest(event.mac or "", _mac(event.hash, kid))


def lock_chain(session: DbSession) -> None:
    """Hold the chain's head for the rest of the caller's transaction: one writer at a time.

    On PostgreSQL an advisory transaction lock (taking it twice is harmless); SQLite's
    writers are serialised already, every write transaction beginning ``IMMEDIATE``.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(4242)"))


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
    lock_chain(session)
    last = session.execute(
        select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar_one_or_none()
    prev_hash = last or GENESIS
    digest = _digest(prev_hash, at, actor, action, subject_type, subject_id, details)
    event = AuditEvent(
        at=at,
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        details=details,
        prev_hash=prev_hash,
        hash=digest,
        mac=_mac(digest, keyring().current),
    )
    session.add(event)
    session.flush()
    return event


ContentCheck = Callable[[DbSession, "AuditEvent"], "str | None"]
"""Checks the rows an event seals by digest; returns what is wrong, or None."""

_CONTENT_CHECKS: dict[str, ContentCheck] = {}


def register_content_check(action: str, check: ContentCheck) -> None:
    """Have :func:`verify_chain` also check what events of ``action`` seal outside the log.

    A feature that records many rows under one event (a digest of them in its
    details) registers here how to recompute that digest, so that a row
    changed or deleted later is named like a changed event.
    """
    _CONTENT_CHECKS[action] = check


def verify_chain(session: DbSession) -> list[str]:
    """Walk the log in order; return a description of every break (empty when intact)."""
    return [problem for _, problem in _walk(session) if problem]


def _walk(session: DbSession) -> Iterator[tuple[AuditEvent, str | None]]:
    """Every event in order, with what is wrong with it (None when it is sound)."""
    expected_prev = GENESIS
    keyed = False
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        problems = []
        if event.prev_hash != expected_prev:
            problems.append("previous event missing or changed")
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
            problems.append("content changed")
        if event.mac is None:
            if keyed:
                problems.append("its MAC was removed")
        elif not _mac_ok(event):
            problems.append(
                "its MAC does not match: the chain was rewritten from here "
                "(an earlier event deleted or changed, and the hashes recomputed)"
            )
        content_check = _CONTENT_CHECKS.get(event.action)
        if content_check is not None and (problem := content_check(session, event)):
            problems.append(problem)
        keyed = keyed or event.mac is not None
        expected_prev = event.hash
        yield event, f"event {event.id}: {'; '.join(problems)}" if problems else None


@dataclass(frozen=True)
class Checkpoint:
    """The log's size and head (the last event's hash and id), signed."""

    size: int
    head: str
    last_id: int
    signature: str
    kid: str

    def as_json(self) -> dict[str, Any]:
        """The JSON an operator hands to whoever keeps checkpoints."""
        return {
            "size": self.size,
            "head": self.head,
            "last_id": self.last_id,
            "signature": self.signature,
            "kid": self.kid,
        }


def _checkpoint_message(size: int, head: str, last_id: int) -> bytes:
    return f"{_CHECKPOINT_CONTEXT}\n{size}\n{head}\n{last_id}".encode()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def checkpoint(session: DbSession, key: Ed25519PrivateKey, kid: str) -> Checkpoint:
    """Sign the log as it stands: its number of events and its head."""
    last = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).first()
    size = int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)
    head, last_id = (last.hash, last.id) if last is not None else (GENESIS, 0)
    signature = key.sign(_checkpoint_message(size, head, last_id))
    return Checkpoint(size, head, last_id, _b64(signature), kid)


class CheckpointInvalid(ValueError):
    """The checkpoint file is malformed, or its signature does not verify."""


def parse_checkpoint(document: Any, public_key: Ed25519PublicKey | None) -> Checkpoint:
    """A checkpoint from its JSON; CheckpointInvalid unless ``public_key`` verifies it."""
    try:
        point = Checkpoint(
            size=int(document["size"]),
            head=str(document["head"]),
            last_id=int(document["last_id"]),
            signature=str(document["signature"]),
            kid=str(document["kid"]),
        )
        raw = base64.urlsafe_b64decode(point.signature + "=" * (-len(point.signature) % 4))
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointInvalid("not a checkpoint: size, head, last_id, signature, kid") from exc
    if public_key is None:
        raise CheckpointInvalid(f"the checkpoint's key {point.kid!r} is not one of this service's")
    try:
        public_key.verify(raw, _checkpoint_message(point.size, point.head, point.last_id))
    except InvalidSignature as exc:
        raise CheckpointInvalid("the checkpoint's signature does not verify") from exc
    return point


def verify_against_checkpoint(session: DbSession, point: Checkpoint) -> list[str]:
    """Every break in the log, and whether it still extends ``point``; empty when it does.

    The first line names the first bad event: edited, deleted (the next one
    names it), rewritten (the first event whose MAC fails, or the checkpoint's
    head when the chain was rewritten with the keys), or missing (truncated).
    """
    problems: list[str] = []
    position = 0
    last_kept = 0
    head_seen = point.size == 0
    for event, problem in _walk(session):
        position += 1
        last_kept = event.id
        if problem:
            problems.append(problem)
        if event.id == point.last_id:
            head_seen = True
            if event.hash != point.head or position != point.size:
                problems.append(
                    f"event {event.id}: the log no longer extends the checkpoint (it was "
                    f"event number {point.size} with another hash; now number {position}): "
                    "the chain up to here was rewritten"
                )
    if not head_seen:
        if last_kept < point.last_id:
            problems.append(
                f"event {last_kept + 1}: missing: the log ends at event {last_kept} "
                f"({position} events) but the checkpoint holds {point.size}, up to event "
                f"{point.last_id} (the log was truncated)"
            )
        else:
            problems.append(f"event {point.last_id}: missing (the checkpoint's last event)")
    return problems
