"""National agencies as configuration: how each one connects, and its keys."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certificate.checks.models import Check
from certificate.db import Base, UTCDateTime, new_id, utcnow
from certificate.encryption import EncryptedText


class AgencyMode(enum.StrEnum):
    """How an agency answers."""

    PORTAL = "portal"  # its officers answer in the web portal
    API = "api"  # its system fetches queries and posts answers
    PUSH = "push"  # we send each query to its endpoint


DEFAULT_DEADLINE_WORKING_DAYS = 10


class Agency(Base):
    """A national criminal-record agency; at most one enabled per country."""

    __tablename__ = "agencies"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    country: Mapped[str] = mapped_column(String(2), index=True)
    name: Mapped[str] = mapped_column(String(200))
    mode: Mapped[str] = mapped_column(String(10))
    endpoint: Mapped[str | None] = mapped_column(String(500))
    deadline_working_days: Mapped[int] = mapped_column(
        Integer, default=DEFAULT_DEADLINE_WORKING_DAYS
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    keys: Mapped[list[AgencyKey]] = relationship(
        back_populates="agency", order_by="AgencyKey.id", cascade="all, delete-orphan"
    )

    @property
    def active_keys(self) -> list[AgencyKey]:
        """Keys that may sign the agency's assertions now."""
        return [key for key in self.keys if key.retired_at is None]


class AgencyKey(Base):
    """A public key with which an agency signs its API assertions."""

    __tablename__ = "agency_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agency_id: Mapped[str] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), index=True
    )
    algorithm: Mapped[str] = mapped_column(String(10))  # ES256 | EdDSA
    public_key_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    agency: Mapped[Agency] = relationship(back_populates="keys")


class UsedAssertion(Base):
    """A ``jti`` an agency already used, kept until the assertion would have expired."""

    __tablename__ = "agency_assertions"

    agency_id: Mapped[str] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), primary_key=True
    )
    jti: Mapped[str] = mapped_column(String(200), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class CheckQuestion(Base):
    """An officer's question to the applicant about one query, and the applicant's reply.

    While a question waits for its reply the check's deadline is paused
    (``Check.paused_at``); the reply resumes it.
    """

    __tablename__ = "check_questions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    check_id: Mapped[str] = mapped_column(ForeignKey("checks.id", ondelete="CASCADE"), index=True)
    question: Mapped[str] = mapped_column(EncryptedText("check_questions.question"))
    asked_by: Mapped[str] = mapped_column(String(100))  # "user:<id>" of the officer
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reply: Mapped[str | None] = mapped_column(EncryptedText("check_questions.reply"))
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    check: Mapped[Check] = relationship()

    @property
    def answered(self) -> bool:
        """True once the applicant has replied."""
        return self.replied_at is not None
