"""Agencies: registering them, their keys, and the queries they see."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select

from certificate.agency.models import (
    DEFAULT_DEADLINE_WORKING_DAYS,
    Agency,
    AgencyKey,
    AgencyMode,
    CheckQuestion,
)
from certificate.applications.models import Application, ApplicationStatus
from certificate.audit import record_event
from certificate.checks.models import Check, CheckStatus
from certificate.checks.service import (
    build_query,
    lock_check,
    pause_deadline,
    record_answer,
    resume_deadline,
)
from certificate.db import DbSession, utcnow
from certificate.events import announce
from country_adapters.base import Answer
from country_adapters.countries import is_country_code
from country_adapters.documents import query_document


class AgencyError(ValueError):
    """A setting of an agency is not acceptable; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class QueryNotFound(Exception):
    """No such query for this agency's country (or not yet sent to it)."""


class QueryWithdrawn(Exception):
    """The applicant withdrew the application: the query is closed and shows nothing."""


ANSWERABLE = frozenset({CheckStatus.SENT.value, CheckStatus.FAILED.value})
"""Non-final statuses in which an agency's answer is still taken."""


def _takes_answers(check: Check) -> bool:
    """Whether an agency may answer ``check`` now: it is open or failed, or it was already
    sent on its way (a push agency may answer before its 202 is stored). A check that was
    never dispatched (held for identity, say) takes no answer."""
    if check.status in ANSWERABLE:
        return True
    return check.status == CheckStatus.QUEUED.value and check.attempts > 0


class QueryClosed(Exception):
    """The query is not open (answered, expired, or not with the agency): it takes no question."""


class QuestionPending(Exception):
    """The query already waits for the applicant's reply to an earlier question."""


class QuestionNotFound(Exception):
    """No such question on this application."""


class QuestionAlreadyAnswered(Exception):
    """The applicant has already replied to this question."""


MAX_QUESTION_LENGTH = 2000


def parse_public_key(pem: str) -> tuple[str, str]:
    """``(algorithm, pem)`` for an EC P-256 (ES256) or Ed25519 (EdDSA) public key."""
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except ValueError as exc:
        raise AgencyError("public-key", "is not a PEM public key") from exc
    if isinstance(key, Ed25519PublicKey):
        algorithm = "EdDSA"
    elif isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        algorithm = "ES256"
    else:
        raise AgencyError("public-key", "must be an EC P-256 (ES256) or Ed25519 (EdDSA) key")
    normalised = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return algorithm, normalised


def add_working_days(start: datetime, days: int) -> datetime:
    """``start`` plus ``days`` working days (Monday to Friday), same time of day."""
    moment = start
    remaining = days
    while remaining > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            remaining -= 1
    return moment


def enabled_agency(session: DbSession, country: str) -> Agency | None:
    """The enabled agency of ``country``, if one is registered."""
    return session.scalars(
        select(Agency).where(Agency.country == country, Agency.enabled.is_(True))
    ).first()


def add_agency(
    session: DbSession,
    *,
    country: str,
    name: str,
    mode: str,
    public_key_pem: str | None = None,
    endpoint: str | None = None,
    deadline_working_days: int = DEFAULT_DEADLINE_WORKING_DAYS,
    actor: str = "operator",
) -> Agency:
    """Register an agency; AgencyError names the setting that is wrong."""
    country = country.strip().upper()
    if not is_country_code(country):
        raise AgencyError("country", "is not an ISO 3166-1 alpha-2 country code")
    if mode not in {m.value for m in AgencyMode}:
        raise AgencyError("mode", "must be portal, api or push")
    if not name.strip():
        raise AgencyError("name", "is required")
    if deadline_working_days < 1:
        raise AgencyError("deadline-days", "must be at least 1")
    if mode == AgencyMode.API.value and not public_key_pem:
        raise AgencyError("public-key", "an api-mode agency needs the public key it signs with")
    if mode == AgencyMode.PUSH.value:
        parts = urlsplit(endpoint or "")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise AgencyError("endpoint", "a push-mode agency needs an http(s) endpoint URL")
    elif endpoint:
        raise AgencyError("endpoint", "only push-mode agencies have an endpoint")
    if enabled_agency(session, country) is not None:
        raise AgencyError("country", f"{country} already has an enabled agency; disable it first")
    agency = Agency(
        country=country,
        name=name.strip(),
        mode=mode,
        endpoint=endpoint,
        deadline_working_days=deadline_working_days,
    )
    if public_key_pem:
        algorithm, pem = parse_public_key(public_key_pem)
        agency.keys.append(AgencyKey(algorithm=algorithm, public_key_pem=pem))
    session.add(agency)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="agency.added",
        subject_type="agency",
        subject_id=agency.id,
        details={"country": country, "mode": mode},
    )
    return agency


def rotate_key(
    session: DbSession, agency: Agency, public_key_pem: str, *, actor: str = "operator"
) -> AgencyKey:
    """Register a new key for ``agency`` and retire its earlier ones."""
    algorithm, pem = parse_public_key(public_key_pem)
    now = utcnow()
    for key in agency.active_keys:
        key.retired_at = now
    key = AgencyKey(algorithm=algorithm, public_key_pem=pem, created_at=now)
    agency.keys.append(key)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="agency.key_rotated",
        subject_type="agency",
        subject_id=agency.id,
        at=now,
    )
    return key


def disable_agency(session: DbSession, agency: Agency, *, actor: str = "operator") -> None:
    """Stop using an agency; its country falls back to any installed adapter."""
    agency.enabled = False
    record_event(
        session, actor=actor, action="agency.disabled", subject_type="agency", subject_id=agency.id
    )


def open_queries(session: DbSession, country: str) -> list[Check]:
    """Queries sent to ``country`` and not yet answered, oldest first.

    A withdrawn application's queries are closed: they are not listed.
    """
    return list(
        session.scalars(
            select(Check)
            .join(Application, Application.id == Check.application_id)
            .where(
                Check.country == country,
                Check.status == CheckStatus.SENT.value,
                Application.status != ApplicationStatus.WITHDRAWN.value,
            )
            .order_by(Check.sent_at, Check.id)
        )
    )


def query_for_country(session: DbSession, country: str, check_id: str) -> Check:
    """A query of ``country`` that has been sent; QueryNotFound for anything else.

    "Sent" includes a query that is being sent, or whose sending failed on
    our side, as soon as it was dispatched once (``attempts`` ≥ 1): a
    push-mode agency may answer through the API right after its 202, before
    the service has stored that 202 and set ``sent_at``, or after a call that
    reached it but timed out here. A query of a withdrawn application raises
    QueryWithdrawn: it is closed, and its subject is shown to no one.
    """
    check = session.get(Check, check_id)
    dispatched = check is not None and (check.sent_at is not None or check.attempts >= 1)
    if check is None or check.country != country or not dispatched:
        raise QueryNotFound(check_id)
    if check.application.status == ApplicationStatus.WITHDRAWN.value:
        raise QueryWithdrawn(check_id)
    return check


def query_view(check: Check) -> dict[str, Any]:
    """A query as the agency API presents it (the same document the push adapter sends)."""
    return query_document(build_query(check))


def record_query_viewed(session: DbSession, check: Check, *, actor: str) -> None:
    """Audit that someone saw a query's subject (identity and residence periods)."""
    record_event(
        session,
        actor=actor,
        action="query.viewed",
        subject_type="check",
        subject_id=check.id,
        details={"country": check.country},
    )


def answer_query(
    session: DbSession,
    check: Check,
    answer: Answer,
    *,
    now: datetime,
    actor: str,
    channel: str = "portal",
) -> bool:
    """Make an agency's answer final, from the portal or the agency API alike (``channel``);
    True when it changed the check, and then ``query.answered`` is in the audit log.

    The same answer again changes nothing; a different answer to a final
    query raises :class:`certificate.checks.service.ConflictingAnswer`; a
    query that is neither open, failed nor final raises QueryClosed (a failed
    check still waits for an answer until its deadline, so a late one is
    taken). Any pause for a question ends: the agency has answered.
    """
    lock_check(session, check)  # as stored now: an adapter may have just written it
    if not check.is_final and not _takes_answers(check):
        raise QueryClosed(check.id)
    changed = record_answer(session, check, answer, now=now, actor=actor)
    if changed:
        check.paused_at = None
        record_event(
            session,
            actor=actor,
            action="query.answered",
            subject_type="check",
            subject_id=check.id,
            details={"country": check.country, "outcome": answer.outcome.value, "channel": channel},
            at=now,
        )
    return changed


def questions_for(session: DbSession, check_ids: list[str]) -> dict[str, list[CheckQuestion]]:
    """The questions asked about each of ``check_ids``, oldest first."""
    found: dict[str, list[CheckQuestion]] = {check_id: [] for check_id in check_ids}
    if not check_ids:
        return found
    rows = session.scalars(
        select(CheckQuestion)
        .where(CheckQuestion.check_id.in_(check_ids))
        .order_by(CheckQuestion.asked_at, CheckQuestion.id)
    )
    for question in rows:
        found[question.check_id].append(question)
    return found


def open_question(session: DbSession, check: Check) -> CheckQuestion | None:
    """The question about ``check`` still waiting for the applicant's reply, if any."""
    return session.scalars(
        select(CheckQuestion).where(
            CheckQuestion.check_id == check.id, CheckQuestion.replied_at.is_(None)
        )
    ).first()


def ask_question(
    session: DbSession, check: Check, *, question: str, now: datetime, actor: str
) -> CheckQuestion:
    """Ask the applicant for more information and pause the query's deadline.

    QueryClosed unless the query is open (``sent``); QuestionPending while an
    earlier question waits for its reply. The audit event holds no text.
    """
    text = question.strip()
    if not text or len(text) > MAX_QUESTION_LENGTH:
        raise ValueError(f"a question has 1 to {MAX_QUESTION_LENGTH} characters")
    if check.status != CheckStatus.SENT.value:
        raise QueryClosed(check.id)
    if open_question(session, check) is not None:
        raise QuestionPending(check.id)
    asked = CheckQuestion(check_id=check.id, question=text, asked_by=actor, asked_at=now)
    session.add(asked)
    pause_deadline(check, now=now)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="query.question_asked",
        subject_type="check",
        subject_id=check.id,
        details={"country": check.country, "question": asked.id},
        at=now,
    )
    announce(session, "query.question_asked", check=check, now=now)
    return asked


def question_of_application(
    session: DbSession, application_id: str, question_id: str
) -> CheckQuestion:
    """A question about one of the application's checks; QuestionNotFound for any other."""
    question = session.get(CheckQuestion, question_id)
    if question is None or question.check.application_id != application_id:
        raise QuestionNotFound(question_id)
    return question


def reply_to_question(
    session: DbSession, question: CheckQuestion, *, reply: str, now: datetime, actor: str
) -> None:
    """Store the applicant's reply and let the deadline run again, extended by the pause.

    QuestionAlreadyAnswered for a second reply; QueryClosed when the agency has
    answered (or the query ended) in the meantime.
    """
    text = reply.strip()
    if not text or len(text) > MAX_QUESTION_LENGTH:
        raise ValueError(f"a reply has 1 to {MAX_QUESTION_LENGTH} characters")
    if question.answered:
        raise QuestionAlreadyAnswered(question.id)
    check = question.check
    if check.status != CheckStatus.SENT.value:
        raise QueryClosed(check.id)
    question.reply = text
    question.replied_at = now
    resume_deadline(check, now=now)
    record_event(
        session,
        actor=actor,
        action="query.question_replied",
        subject_type="check",
        subject_id=check.id,
        details={"country": check.country, "question": question.id},
        at=now,
    )
