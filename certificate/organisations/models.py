"""Organisations (employers): members, API keys, candidate requests and webhooks."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certificate.db import Base, UTCDateTime, new_id, utcnow
from certificate.encryption import EncryptedText

if TYPE_CHECKING:
    from certificate.applications.models import Application


class Organisation(Base):
    """An employer registered by an operator; its name is what holders and certificates show."""

    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    # printed on certificates it vouches for: at most 32 bytes
    short_name: Mapped[str] = mapped_column(String(64))
    domain: Mapped[str | None] = mapped_column(String(253))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiKey(Base):
    """An organisation's API key; only its SHA-256 is stored, and it is shown once."""

    __tablename__ = "organisation_api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship()


class RequestStatus(enum.StrEnum):
    """Where a request to a candidate stands."""

    SENT = "sent"
    SHARED = "shared"
    STOPPED = "stopped"


class CandidateRequest(Base):
    """An organisation asks a candidate (by e-mail) to share a certificate."""

    __tablename__ = "candidate_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    email: Mapped[str] = mapped_column(EncryptedText("candidate_requests.email"))
    purpose: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=RequestStatus.SENT.value)
    application_id: Mapped[str | None] = mapped_column(ForeignKey("applications.id"), index=True)
    candidate_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    shared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship()
    application: Mapped[Application | None] = relationship()


class Webhook(Base):
    """An organisation's endpoint for events; the secret signs every delivery."""

    __tablename__ = "webhooks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(EncryptedText("webhooks.secret"))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def wants(self, event: str) -> bool:
        """Whether this endpoint subscribed to ``event``."""
        events: list[Any] = self.events or []
        return self.disabled_at is None and event in events
