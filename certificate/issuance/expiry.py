"""Expiry as an event: ``certificate.expired`` is announced once per certificate.

Expiry happens by the clock, not by anyone's action, so the sweeper asks
which certificates ran out while in force (neither revoked nor superseded
first) and announces each once, in the transaction that marks it announced:
the webhooks its subscribers write are committed with the mark, or neither is.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from certificate.db import DbSession
from certificate.events import announce
from certificate.issuance.models import Certificate

#: Certificates announced per sweep; the rest follow on the next ones.
BATCH = 500


def announce_expiries(session: DbSession, now: datetime, limit: int = BATCH) -> int:
    """Announce ``certificate.expired`` for certificates that expired by ``now``; how many.

    Each certificate is announced once: it is marked in the same transaction,
    and a concurrent sweeper skips the rows this one holds.
    """
    due = session.scalars(
        select(Certificate)
        .where(
            Certificate.expiry_announced_at.is_(None),
            Certificate.expires_at <= now,
            Certificate.revoked_at.is_(None),
            Certificate.superseded_at.is_(None),
        )
        .order_by(Certificate.expires_at, Certificate.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for certificate in due:
        certificate.expiry_announced_at = now
        announce(session, "certificate.expired", certificate=certificate, now=now)
    return len(due)
