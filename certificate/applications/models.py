"""Applications: who the applicant is and where they lived."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certificate.db import Base, UTCDateTime, new_id, utcnow
from certificate.encryption import EncryptedText

if TYPE_CHECKING:
    from certificate.checks.models import Check
    from certificate.identity.models import IdentityProof
    from certificate.issuance.models import Certificate


class ApplicationStatus(enum.StrEnum):
    """Where an application stands."""

    AWAITING_IDENTITY = "awaiting_identity"
    IN_PROGRESS = "in_progress"
    COMPLETE = "complete"
    WITHDRAWN = "withdrawn"
    IDENTITY_REFUSED = "identity_refused"


class Application(Base):
    """One filing: the applicant's identity, residence history and consent."""

    __tablename__ = "applications"
    __table_args__ = (
        # the sweeper's question every pass, "which applications in progress owe a
        # certificate?", in its order: without it, a scan of every application ever filed
        Index("ix_applications_issuance_queue", "status", "issuance_failures", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=ApplicationStatus.IN_PROGRESS.value)
    family_name: Mapped[str] = mapped_column(String(100))
    given_names: Mapped[str] = mapped_column(String(200))
    #: The name as the identity document's machine-readable zone writes it (given, or
    #: derived at filing); None for a name in Latin script filed without one.
    latin_family_name: Mapped[str | None] = mapped_column(String(400))
    latin_given_names: Mapped[str | None] = mapped_column(String(800))
    other_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    # None only once purged (see certificate/retention.py)
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    birth_city: Mapped[str] = mapped_column(String(100))
    birth_country: Mapped[str] = mapped_column(String(2))
    nationalities: Mapped[list[str]] = mapped_column(JSON)
    document_type: Mapped[str] = mapped_column(String(30))
    document_number: Mapped[str | None] = mapped_column(
        EncryptedText("applications.document_number")
    )
    document_country: Mapped[str] = mapped_column(String(2))
    document_expires: Mapped[date | None] = mapped_column(Date)
    language: Mapped[str] = mapped_column(String(2))
    purpose: Mapped[str] = mapped_column(Text)
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    #: Issuance that failed (rendering, signing, storage): retried with backoff at
    #: ``issuance_retry_at``, shown to operators with the last error, and never in
    #: the way of any other application's certificate.
    issuance_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    issuance_retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    issuance_error: Mapped[str | None] = mapped_column(Text)

    residences: Mapped[list[Residence]] = relationship(
        back_populates="application", order_by="Residence.position", cascade="all, delete-orphan"
    )
    checks: Mapped[list[Check]] = relationship(
        back_populates="application", order_by="Check.position", cascade="all, delete-orphan"
    )
    certificates: Mapped[list[Certificate]] = relationship(
        back_populates="application", order_by="Certificate.generation"
    )
    identity_proof: Mapped[IdentityProof | None] = relationship(
        back_populates="application", cascade="all, delete-orphan"
    )

    def latin_name(self) -> tuple[str, str]:
        """The name in Latin letters: the stored Latin form, or the name itself when it has none."""
        if self.latin_family_name is not None:
            return self.latin_family_name, self.latin_given_names or ""
        return self.family_name, self.given_names

    @property
    def current_certificate(self) -> Certificate | None:
        """The latest certificate issued for this application, if any."""
        return self.certificates[-1] if self.certificates else None

    def identity(self) -> Identity:
        """The identity fields that purging removes; PersonalDataPurged once they are gone."""
        if (
            self.date_of_birth is None
            or self.document_number is None
            or (self.document_expires is None)
        ):
            raise PersonalDataPurged(self.id)
        return Identity(self.date_of_birth, self.document_number, self.document_expires)


class PersonalDataPurged(Exception):
    """The application's personal data has been purged at the end of its lifetime."""


@dataclass(frozen=True)
class Identity:
    """The identity fields of an application whose data has not been purged."""

    date_of_birth: date
    document_number: str
    document_expires: date


class Residence(Base):
    """A period the applicant lived in one country (months, ``YYYY-MM``)."""

    __tablename__ = "residences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    country: Mapped[str] = mapped_column(String(2))
    start: Mapped[str] = mapped_column(String(7))
    end: Mapped[str | None] = mapped_column(String(7))

    application: Mapped[Application] = relationship(back_populates="residences")


class IdempotencyKey(Base):
    """Remembers which application a client's ``Idempotency-Key`` created."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
