"""One check per country: the record of work for dispatch."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certificate.db import Base, UTCDateTime, new_id, utcnow
from certificate.encryption import EncryptedJSON, EncryptedText

if TYPE_CHECKING:
    from certificate.applications.models import Application


class CheckStatus(enum.StrEnum):
    """A check's life; see docs/architecture.md."""

    QUEUED = "queued"
    SENT = "sent"
    ANSWERED = "answered"
    NO_RESPONSE = "no_response"
    NOT_COVERED = "not_covered"
    FAILED = "failed"


FINAL_STATUSES = frozenset({CheckStatus.ANSWERED, CheckStatus.NO_RESPONSE, CheckStatus.NOT_COVERED})


class Check(Base):
    """The question put to one country about one application."""

    __tablename__ = "checks"
    __table_args__ = (
        UniqueConstraint("application_id", "country"),
        Index("ix_checks_due", "status", "next_attempt_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    application_id: Mapped[str] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    country: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(20), default=CheckStatus.QUEUED.value)
    # sealed, padded to one length: a stolen copy of the database cannot tell the outcomes
    # apart (nothing filters on it in SQL; see docs/security.md)
    outcome: Mapped[str | None] = mapped_column(EncryptedText("checks.outcome", block=32))
    # padded to at least 2 KiB: an empty list looks like a short list of records
    records: Mapped[list[dict[str, Any]]] = mapped_column(
        EncryptedJSON("checks.records", block=256, minimum=2048), default=list
    )
    reference: Mapped[str | None] = mapped_column(String(200))
    authority: Mapped[str | None] = mapped_column(String(200))
    specimen: Mapped[bool] = mapped_column(default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # set while an officer waits for the applicant's reply: the deadline does not run
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    application: Mapped[Application] = relationship(back_populates="checks")

    @property
    def is_final(self) -> bool:
        """True once nothing can change the check any more."""
        return self.status in FINAL_STATUSES
