"""Requests to candidates and the sharing the candidate consents to (and may stop)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from certificate.applications.models import Application
from certificate.audit import record_event
from certificate.auth.models import User
from certificate.auth.service import normalise_email
from certificate.db import DbSession
from certificate.events import announce
from certificate.notifications.service import enqueue_mail, link
from certificate.organisations.models import CandidateRequest, Organisation, RequestStatus
from certificate.verify.service import Verification, Verifier, verify_token

MAX_PURPOSE = 500


class RequestNotFound(Exception):
    """No such request (for this caller)."""


class NotShareable(Exception):
    """The application is not the candidate's own, or the request is not theirs to change."""


def create_request(
    session: DbSession,
    organisation: Organisation,
    *,
    email: str,
    purpose: str,
    language: str,
    actor: str,
    now: datetime,
) -> CandidateRequest:
    """Ask a candidate by e-mail; the message with the link is written to the outbox."""
    request = CandidateRequest(
        organisation_id=organisation.id,
        email=normalise_email(email),
        purpose=" ".join(purpose.split()),
        created_by=actor,
        created_at=now,
    )
    session.add(request)
    session.flush()
    enqueue_mail(
        session,
        to=request.email,
        topic="candidate_request",
        language=language,
        now=now,
        organisation=organisation.name,
        purpose=request.purpose,
        link=link(f"/requests/{request.id}"),
    )
    record_event(
        session,
        actor=actor,
        action="request.created",
        subject_type="request",
        subject_id=request.id,
        details={"organisation": organisation.id},
        at=now,
    )
    return request


def request_for_candidate(session: DbSession, request_id: str, candidate: User) -> CandidateRequest:
    """A request the candidate may see: one not yet answered, or answered by them.

    RequestNotFound for any other, whether or not it exists.
    """
    request = session.get(CandidateRequest, request_id)
    if request is None or request.candidate_id not in (None, candidate.id):
        raise RequestNotFound(request_id)
    return request


def share(
    session: DbSession, request_id: str, candidate: User, application_id: str, *, now: datetime
) -> CandidateRequest:
    """The candidate consents to share one of their own applications with the organisation."""
    request = request_for_candidate(session, request_id, candidate)
    application = session.get(Application, application_id)
    if application is None or application.user_id != candidate.id:
        raise NotShareable(application_id)
    request.candidate_id = candidate.id
    request.application_id = application.id
    request.status = RequestStatus.SHARED.value
    request.shared_at = now
    request.stopped_at = None
    record_event(
        session,
        actor=f"user:{candidate.id}",
        action="request.shared",
        subject_type="request",
        subject_id=request.id,
        details={"application": application.id, "organisation": request.organisation_id},
        at=now,
    )
    announce(session, "request.shared", request=request, now=now)
    return request


def stop_sharing(
    session: DbSession, request_id: str, candidate: User, *, now: datetime
) -> CandidateRequest:
    """The candidate withdraws consent: from now on the organisation sees nothing of it."""
    request = session.get(CandidateRequest, request_id)
    if request is None or request.candidate_id != candidate.id:
        raise RequestNotFound(request_id)
    if request.status == RequestStatus.SHARED.value:
        request.status = RequestStatus.STOPPED.value
        request.stopped_at = now
        record_event(
            session,
            actor=f"user:{candidate.id}",
            action="request.stopped",
            subject_type="request",
            subject_id=request.id,
            details={"organisation": request.organisation_id},
            at=now,
        )
        announce(session, "request.stopped", request=request, now=now)
    return request


def organisation_requests(session: DbSession, organisation_id: str) -> list[CandidateRequest]:
    """The organisation's requests, newest first."""
    return list(
        session.scalars(
            select(CandidateRequest)
            .where(CandidateRequest.organisation_id == organisation_id)
            .order_by(CandidateRequest.created_at.desc(), CandidateRequest.id)
        )
    )


def current_answer(
    verifier: Verifier, organisation: Organisation, item: CandidateRequest, now: datetime
) -> Verification | None:
    """The current verification answer of a shared certificate (recorded in the holder's
    history under the organisation's name); None before sharing and once it stops."""
    if item.status != RequestStatus.SHARED.value or item.application is None:
        return None
    certificate = item.application.current_certificate
    if certificate is None or certificate.token is None:
        return None
    return verify_token(verifier, certificate.token, now, organisation=organisation.name)
