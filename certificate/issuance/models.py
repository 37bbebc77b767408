"""Issued certificates and their status."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certificate.db import Base, UTCDateTime, utcnow
from certificate.encryption import EncryptedText

if TYPE_CHECKING:
    from certificate.applications.models import Application


class CertificateStatus(enum.StrEnum):
    """What a verifier is told about a certificate."""

    VALID = "valid"
    REVOKED = "revoked"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"


class Certificate(Base):
    """One issued certificate. ``(application_id, generation)`` is unique: issuance happens once."""

    __tablename__ = "certificates"
    __table_args__ = (
        UniqueConstraint("application_id", "generation"),
        # the sweeper's question: which certificates ran out and are not announced yet
        Index("ix_certificates_expiry_due", "expiry_announced_at", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    generation: Mapped[int] = mapped_column(Integer, default=1)
    kid: Mapped[str] = mapped_column(String(64))
    # the signed claims (name, date of birth, every outcome): sealed; None once purged
    token: Mapped[str | None] = mapped_column(
        EncryptedText("certificates.token", block=256, minimum=1024)
    )
    # the number and token's MAC under a key derived from the signing key, which vouches
    # for the stored token instead of its signature (certificate/signing/token_macs.py);
    # None for a certificate issued before, and once purged
    token_mac: Mapped[str | None] = mapped_column(String(64))
    # the holder's date of birth, for typed verification; after the data's lifetime only
    # its keyed hash remains (``holder_dob_hash``), and the token is dropped
    holder_date_of_birth: Mapped[date | None] = mapped_column(Date)
    holder_dob_hash: Mapped[str | None] = mapped_column(String(80))
    pdf_sha256: Mapped[str] = mapped_column(String(64), index=True)
    specimen: Mapped[bool] = mapped_column(Boolean, default=False)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revocation_reason: Mapped[str | None] = mapped_column(Text)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # when ``certificate.expired`` was announced (once, by the sweeper)
    expiry_announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    application: Mapped[Application] = relationship(back_populates="certificates")

    def status_at(self, now: datetime) -> CertificateStatus:
        """The status a verifier sees at ``now``: revocation wins, then supersession, then expiry."""
        return status_at(self.revoked_at, self.superseded_at, self.expires_at, now)


def status_at(
    revoked_at: datetime | None,
    superseded_at: datetime | None,
    expires_at: datetime,
    now: datetime,
) -> CertificateStatus:
    """A certificate's status at ``now`` from its three dates: revocation wins, then
    supersession, then expiry."""
    if revoked_at is not None and revoked_at <= now:
        return CertificateStatus.REVOKED
    if superseded_at is not None and superseded_at <= now:
        return CertificateStatus.SUPERSEDED
    if expires_at <= now:
        return CertificateStatus.EXPIRED
    return CertificateStatus.VALID


class CertificateVerification(Base):
    """One verification of a certificate, shown to its holder.

    Records when, how and with what result; never who, unless the verifier
    chose to name their organisation. No address, no user agent.
    """

    __tablename__ = "certificate_verifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    certificate_id: Mapped[str] = mapped_column(
        ForeignKey("certificates.id", ondelete="CASCADE"), index=True
    )
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    method: Mapped[str] = mapped_column(String(10))
    result: Mapped[str] = mapped_column(String(20))
    organisation: Mapped[str | None] = mapped_column(String(200))
    # set once the sweeper has appended this verification to the audit chain
    audit_event_id: Mapped[int | None] = mapped_column(Integer, index=True)
