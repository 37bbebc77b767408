"""The outbox: every e-mail and webhook, written in the transaction of the event that causes it."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from certificate.db import Base, UTCDateTime, new_id, utcnow
from certificate.encryption import EncryptedText


class Channel(enum.StrEnum):
    """How a message travels."""

    MAIL = "mail"
    WEBHOOK = "webhook"


class OutboxMessage(Base):
    """One message to deliver. Its id is the delivery id (``Message-ID``, ``webhook-id``).

    A sender claims a due row with a lease, delivers outside any transaction,
    then marks it sent or schedules the next attempt; a crash loses nothing
    (the lease lapses) and a delivered row is never sent again.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_due", "sent_at", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(10))
    topic: Mapped[str] = mapped_column(String(40))
    # an e-mail address, or the id of an organisation's webhook endpoint
    recipient: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(5), default="en")
    subject: Mapped[str] = mapped_column(Text, default="")
    # the text of an e-mail, or the exact JSON body of a webhook (signed as is on every attempt)
    body: Mapped[str | None] = mapped_column(EncryptedText("outbox_messages.body"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    gave_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
