"""A check's life: claim, ask the adapter, store what it said, give up at the deadline.

Every transition moves forward only, in the caller's transaction, together
with its audit event. The database row is the record of work: whatever a
crashed worker left undone is found again by :func:`due_check_ids`.
"""

from __future__ import annotations

import logging
import random
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Exists, or_, select

from certificate.applications.models import Application, ApplicationStatus
from certificate.audit import record_event
from certificate.checks.models import FINAL_STATUSES, Check, CheckStatus
from certificate.db import DbSession
from certificate.events import announce
from certificate.observability import AGENCY_ANSWER_SECONDS
from country_adapters.base import (
    AdapterError,
    Answer,
    Outcome,
    Pending,
    Query,
    Record,
    ResidencePeriod,
    Subject,
)
from country_adapters.records import record_problems

log = logging.getLogger(__name__)

_ACTIVE = (CheckStatus.QUEUED.value, CheckStatus.SENT.value, CheckStatus.FAILED.value)


class ConflictingAnswer(Exception):
    """A different answer arrived for a check that is already final."""


class ApplicationWithdrawn(Exception):
    """The applicant withdrew the application: its checks take no answer any more."""


class CheckNotFailed(Exception):
    """The operation is only for ``failed`` checks, and this one is not (any more)."""


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Capped exponential backoff with jitter: uniform in [c/2, c], c = min(cap, base·2^(attempt-1))."""
    ceiling = min(cap, base * (2 ** max(attempt - 1, 0)))
    return (rng or random).uniform(ceiling / 2, ceiling)


def due_check_ids(session: DbSession, now: datetime, limit: int = 500) -> list[str]:
    """Checks whose next attempt is due and that no live worker holds."""
    return list(
        session.scalars(
            select(Check.id).where(*_due(now)).order_by(Check.next_attempt_at).limit(limit)
        )
    )


def _due(now: datetime) -> list[ColumnElement[bool]]:
    """A check whose next attempt is due and that no live worker holds."""
    return [
        Check.status.in_([CheckStatus.QUEUED.value, CheckStatus.SENT.value]),
        Check.next_attempt_at.is_not(None),
        Check.next_attempt_at <= now,
        or_(Check.lease_until.is_(None), Check.lease_until <= now),
    ]


def claim(session: DbSession, check_id: str, now: datetime, lease: timedelta) -> Check | None:
    """Take the check for one attempt, or None when it is not due or another worker holds it.

    ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL (SQLite, whose
    transactions here are ``BEGIN IMMEDIATE``, serialises writers anyway), so
    two workers, threads or processes, never both win; the lease then keeps the
    check theirs after the commit, while the agency is called.
    """
    check = session.scalars(
        select(Check)
        .where(Check.id == check_id, *_due(now))
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).first()
    if check is None:
        return None
    check.lease_until = now + lease
    if check.status == CheckStatus.QUEUED.value:
        check.attempts += 1
    return check


def build_query(check: Check) -> Query:
    """What the adapter is told: the subject as filed and the periods in its country only."""
    app = check.application
    identity = app.identity()
    subject = Subject(
        family_name=app.family_name,
        given_names=app.given_names,
        other_names=tuple(app.other_names),
        date_of_birth=identity.date_of_birth,
        place_of_birth_city=app.birth_city,
        place_of_birth_country=app.birth_country,
        nationalities=tuple(app.nationalities),
        document_type=app.document_type,
        document_number=identity.document_number,
        document_issuing_country=app.document_country,
        document_expires=identity.document_expires,
        latin_family_name=app.latin_family_name,
        latin_given_names=app.latin_given_names,
    )
    periods = tuple(
        ResidencePeriod(r.start, r.end) for r in app.residences if r.country == check.country
    )
    assert check.deadline_at is not None  # noqa: S101 - covered checks always have a deadline
    return Query(
        check_id=check.id,
        country=check.country,
        subject=subject,
        residences=periods,
        requested_at=check.sent_at or check.created_at,
        deadline=check.deadline_at,
        attempt=max(check.attempts, 1),
        reference=check.reference,
    )


def apply_result(
    session: DbSession,
    check: Check,
    result: Answer | Pending | AdapterError,
    *,
    now: datetime,
    retry_base: float,
    retry_cap: float,
    max_attempts: int,
) -> None:
    """Store what one adapter call produced and release the lease."""
    check.lease_until = None
    application = check.application
    if check.is_final or (
        application is not None and application.status == ApplicationStatus.WITHDRAWN.value
    ):
        # Nothing that comes back after the withdrawal is stored or scheduled. The
        # caller holds the check's row lock, which the withdrawal takes as well
        # (it clears the schedule), so the application read here is current.
        return
    if isinstance(result, Answer):
        result = _checked_answer(check, result, now)
    if isinstance(result, Answer):
        record_answer(session, check, result, now=now, actor="system")
        return
    if isinstance(result, Pending):
        first = check.status != CheckStatus.SENT.value
        check.status = CheckStatus.SENT.value
        check.sent_at = check.sent_at or now
        check.reference = result.reference or check.reference
        check.last_error = None  # the agency has the query: an earlier failure is over
        check.next_attempt_at = (
            now + timedelta(seconds=result.poll_after) if result.poll_after is not None else None
        )
        if first:
            record_event(
                session,
                actor="system",
                action="check.sent",
                subject_type="check",
                subject_id=check.id,
                details={"country": check.country},
                at=now,
            )
            announce(session, "query.sent", check=check, now=now)
        return
    check.last_error = str(result)[:500]
    if result.retryable and result.retry_after is not None:
        # the adapter did not ask the agency (it knows it is down): not an attempt
        check.attempts = max(check.attempts - 1, 0)
        check.status = CheckStatus.QUEUED.value
        spread = random.uniform(1, 1.5)  # noqa: S311 - jitter, not secrecy
        check.next_attempt_at = now + timedelta(seconds=result.retry_after * spread)
        return
    if result.retryable and check.attempts < max_attempts:
        delay = backoff_delay(check.attempts, retry_base, retry_cap)
        check.status = CheckStatus.QUEUED.value
        check.next_attempt_at = now + timedelta(seconds=delay)
        action = "check.retry_scheduled"
    else:
        check.status = CheckStatus.FAILED.value
        check.next_attempt_at = None
        action = "check.failed"
    record_event(
        session,
        actor="system",
        action=action,
        subject_type="check",
        subject_id=check.id,
        details={"country": check.country, "attempt": check.attempts},
        at=now,
    )


def lock_check(session: DbSession, check: Check) -> None:
    """Hold the check's row for the rest of the transaction, and reload it as stored.

    Whatever writes a check takes its row before its application's (an
    answer, an adapter's result); taken the other way round, an answer and a
    result arriving together on PostgreSQL each wait for the other.
    """
    session.scalar(
        select(Check)
        .where(Check.id == check.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def application_withdrawn(session: DbSession, check: Check) -> bool:
    """Whether the check's application was withdrawn, read under a row lock.

    ``withdraw`` updates the application row, so on PostgreSQL an answer
    racing a withdrawal waits for it here and then sees it; SQLite serialises
    writers anyway. The lock (``FOR NO KEY UPDATE``) is the one an update
    takes: rows that merely refer to the application (an audit or outbox row
    written meanwhile) are not held up by it.
    """
    status = session.scalar(
        select(Application.status)
        .where(Application.id == check.application_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    return status == ApplicationStatus.WITHDRAWN.value


def answer_problems(answer: Answer, today: date | None = None) -> dict[str, str]:
    """``{"records.0.date": "lies in the future"}`` for each record rule the answer breaks."""
    return {
        f"records.{index}.{name}": problem
        for index, record in enumerate(answer.records)
        for name, problem in record_problems(record, today).items()
    }


def _checked_answer(check: Check, answer: Answer, now: datetime) -> Answer | AdapterError:
    """An adapter's answer, or a non-retryable error when a record breaks the rules.

    Nothing of such an answer is stored: the check becomes ``failed`` and waits
    for an operator, who sees the reason in ``last_error``.
    """
    problems = answer_problems(answer, now.date())
    if not problems:
        return answer
    described = "; ".join(f"{path} {problem}" for path, problem in problems.items())
    log.warning("check %s (%s): adapter answer refused: %s", check.id, check.country, described)
    return AdapterError(f"the agency's answer was refused: {described}", retryable=False)


def _records_payload(records: tuple[Record, ...]) -> list[dict[str, Any]]:
    return [asdict(r) for r in records]


def record_answer(
    session: DbSession, check: Check, answer: Answer, *, now: datetime, actor: str
) -> bool:
    """Make the agency's answer final. Returns True when it changed the check.

    The same answer again changes nothing; a different answer to a final check
    raises ConflictingAnswer. Once the application is withdrawn every answer
    raises ApplicationWithdrawn, and nothing is stored. The caller holds the
    check's row already (:func:`lock_check`, or a read ``FOR UPDATE``).
    """
    if application_withdrawn(session, check):
        raise ApplicationWithdrawn(check.id)
    records = _records_payload(answer.records)
    if check.is_final:
        same = (
            check.status == CheckStatus.ANSWERED.value
            and check.outcome == answer.outcome.value
            and check.records == records
        )
        if same:
            return False
        raise ConflictingAnswer(check.id)
    check.outcome = Outcome(answer.outcome).value
    check.records = records
    check.reference = answer.reference or check.reference
    check.answered_at = answer.answered_at or now
    check.last_error = None
    _finish(session, check, CheckStatus.ANSWERED, now=now, actor=actor)
    AGENCY_ANSWER_SECONDS.labels(country=check.country).observe(
        max((now - (check.sent_at or check.created_at)).total_seconds(), 0.0)
    )
    return True


def _finish(
    session: DbSession, check: Check, status: CheckStatus, *, now: datetime, actor: str
) -> None:
    """Move a check to a final status, with its audit event."""
    check.status = status.value
    check.finished_at = now
    check.next_attempt_at = None
    check.lease_until = None
    details = {"country": check.country}
    if check.outcome:
        details["outcome"] = check.outcome
    record_event(
        session,
        actor=actor,
        action=f"check.{status.value}",
        subject_type="check",
        subject_id=check.id,
        details=details,
        at=now,
    )


def expire_overdue(session: DbSession, now: datetime) -> set[str]:
    """Every check still open at its deadline becomes ``no_response``. Returns application ids."""
    overdue = session.scalars(
        select(Check).where(
            Check.status.in_(_ACTIVE),
            Check.deadline_at <= now,
            Check.paused_at.is_(None),  # waiting for the applicant: the deadline does not run
        )
    ).all()
    for check in overdue:
        _finish(session, check, CheckStatus.NO_RESPONSE, now=now, actor="system")
    return {check.application_id for check in overdue}


def all_final(application: Application) -> bool:
    """True when every check of the application is final."""
    return all(check.status in FINAL_STATUSES for check in application.checks)


def any_open(session: DbSession, application_id: str) -> bool:
    """Whether some check of the application is still open, as this transaction sees it.

    Asked by whoever just made a check final, to know whether issuance is now
    due. An answer holds the application's row (:func:`application_withdrawn`)
    until it commits, so of two answers completing an application together on
    PostgreSQL the second waits for the first and then sees it: the last one
    finds nothing open.
    """
    return bool(session.scalar(select(_open_check(application_id))))


def _open_check(application_id: Any) -> Exists:
    """EXISTS a check of ``application_id`` (a value, or a column to correlate) not final."""
    return (
        select(Check.id)
        .where(
            Check.application_id == application_id,
            Check.status.not_in([s.value for s in FINAL_STATUSES]),
        )
        .exists()
    )


def applications_awaiting_issuance(
    session: DbSession, now: datetime | None = None, limit: int = 200
) -> list[str]:
    """In-progress applications whose checks are all final (issuance still owed).

    With ``now``, one whose issuance failed is left out until its retry is due.
    """
    open_check = _open_check(Application.id)
    return list(
        session.scalars(
            select(Application.id)
            .where(
                Application.status == ApplicationStatus.IN_PROGRESS.value,
                ~open_check,
                *(
                    ()
                    if now is None
                    else (
                        or_(
                            Application.issuance_retry_at.is_(None),
                            Application.issuance_retry_at <= now,
                        ),
                    )
                ),
            )
            .order_by(Application.issuance_failures, Application.created_at)
            .limit(limit)
        )
    )


def pause_deadline(check: Check, *, now: datetime) -> None:
    """Stop the check's deadline from running (idempotent: an earlier pause is kept)."""
    if check.paused_at is None:
        check.paused_at = now


def resume_deadline(check: Check, *, now: datetime) -> None:
    """Let the deadline run again, pushed back by the time it was paused."""
    if check.paused_at is None:
        return
    if check.deadline_at is not None:
        check.deadline_at += max(now - check.paused_at, timedelta(0))
    check.paused_at = None


def failed_issuances(session: DbSession) -> list[Application]:
    """Applications whose certificate could not be issued yet, the longest-failing first."""
    return list(
        session.scalars(
            select(Application)
            .where(
                Application.status == ApplicationStatus.IN_PROGRESS.value,
                Application.issuance_failures > 0,
            )
            .order_by(Application.issuance_failures.desc(), Application.created_at)
        )
    )


def failed_checks(session: DbSession) -> list[Check]:
    """Checks waiting for an operator (status ``failed``), the nearest deadline first."""
    return list(
        session.scalars(
            select(Check)
            .where(Check.status == CheckStatus.FAILED.value)
            .order_by(Check.deadline_at, Check.id)
        )
    )


def retry_failed(session: DbSession, check: Check, *, now: datetime, actor: str) -> None:
    """Put a ``failed`` check back in the queue for one more attempt, due at once.

    The attempt count is kept: once it has reached the limit, a further
    technical error fails the check again at once instead of starting a new
    series of automatic retries.
    CheckNotFailed when the check is not ``failed``.
    """
    if check.status != CheckStatus.FAILED.value:
        raise CheckNotFailed(check.id)
    check.status = CheckStatus.QUEUED.value
    check.next_attempt_at = now
    check.lease_until = None
    record_event(
        session,
        actor=actor,
        action="check.retried",
        subject_type="check",
        subject_id=check.id,
        details={"country": check.country, "attempts": check.attempts},
        at=now,
    )
