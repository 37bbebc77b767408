"""Identity proofing: whether the person who filed is the person named, and how we know."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certificate.db import Base, UTCDateTime, new_id, utcnow

if TYPE_CHECKING:
    from certificate.applications.models import Application


class IdentityStatus(enum.StrEnum):
    """Where the proof of an application's identity stands."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    REFUSED = "refused"


class IdentityProof(Base):
    """One application's identity proofing: its code, and who confirmed or refused it.

    ``code`` is what the applicant shows an ID checker; it is unique while the
    proof is pending. ``vouched_by`` is the organisation (in person) or the
    provider (OpenID Connect) that vouched for the identity.
    """

    __tablename__ = "identity_proofs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    application_id: Mapped[str] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), unique=True
    )
    code: Mapped[str] = mapped_column(String(8), unique=True)
    status: Mapped[str] = mapped_column(String(10), default=IdentityStatus.PENDING.value)
    method: Mapped[str | None] = mapped_column(String(40))
    vouched_by: Mapped[str | None] = mapped_column(String(200))
    organisation_id: Mapped[str | None] = mapped_column(String(32))
    checker_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    application: Mapped[Application] = relationship(back_populates="identity_proof")

    @property
    def confirmed_at(self) -> datetime | None:
        """When the identity was confirmed, if it was."""
        return self.decided_at if self.status == IdentityStatus.CONFIRMED.value else None
