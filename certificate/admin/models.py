"""Actions an admin asked for that wait for a second admin's approval (the two-person rule).

An admin's revocation of a certificate, or an agency's answer entered by hand
by an admin, is not applied when it is asked for: it is stored here, and takes
effect only when a different admin approves it (in the same transaction as the
approval). Operators at the console (``flask certificates revoke``) are not
bound by the rule.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from certificate.db import Base, UTCDateTime, new_id, utcnow
from certificate.encryption import EncryptedJSON


class ActionKind(enum.StrEnum):
    """What a pending action does once approved."""

    REVOKE_CERTIFICATE = "revoke_certificate"
    ANSWER_CHECK = "answer_check"


class Decision(enum.StrEnum):
    """How a pending action ended."""

    APPROVED = "approved"
    REJECTED = "rejected"


class PendingAction(Base):
    """One admin's request that waits for a second admin; ``decision`` is None while it waits."""

    __tablename__ = "pending_actions"
    __table_args__ = (Index("ix_pending_actions_open", "decision", "requested_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(30))
    # a certificate id (revoke_certificate) or a check id (answer_check)
    subject_id: Mapped[str] = mapped_column(String(64), index=True)
    # what is applied on approval: the answer, records included, for answer_check;
    # sealed like the records themselves, and cleared once the action is decided
    # an answer entered by hand (outcome and records) waits here: padded like checks.records
    payload: Mapped[dict[str, Any] | None] = mapped_column(
        EncryptedJSON("pending_actions.payload", block=256, minimum=2048)
    )
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision: Mapped[str | None] = mapped_column(String(20))
    decision_note: Mapped[str | None] = mapped_column(Text)

    @property
    def is_open(self) -> bool:
        """True while the action waits for a decision."""
        return self.decision is None
