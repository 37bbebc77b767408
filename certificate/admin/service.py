"""Operators' work on checks: answering a failed check by hand.

In the web pages an admin's hand answer is applied only once a second admin
approves it (see :mod:`certificate.admin.approvals`, which calls
:func:`answer_by_hand` on approval).
"""

from __future__ import annotations

from datetime import datetime

from certificate.audit import record_event
from certificate.checks.models import Check, CheckStatus
from certificate.checks.service import CheckNotFailed, lock_check, record_answer
from certificate.db import DbSession
from country_adapters.base import Answer


def answer_by_hand(
    session: DbSession,
    check: Check,
    answer: Answer,
    *,
    now: datetime,
    actor: str,
    reason: str,
    approved_by: str | None = None,
) -> None:
    """Record an agency's answer that reached an operator another way; the check becomes final.

    Only a ``failed`` check is answered by hand (CheckNotFailed otherwise).
    The audit event keeps the operator's reason (and who approved it, when
    given), never the records.
    """
    reason = reason.strip()
    if not reason:
        raise ValueError("a reason is required")
    lock_check(session, check)  # as stored now: an adapter may have just written it
    if check.status != CheckStatus.FAILED.value:
        raise CheckNotFailed(check.id)
    record_answer(session, check, answer, now=now, actor=actor)
    details = {"country": check.country, "outcome": answer.outcome.value, "reason": reason}
    if approved_by is not None:
        details["approved_by"] = approved_by
    record_event(
        session,
        actor=actor,
        action="check.answered_by_hand",
        subject_type="check",
        subject_id=check.id,
        details=details,
        at=now,
    )
