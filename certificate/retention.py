"""Data has a lifetime: withdrawal, and purging personal data when it is no longer needed.

A configurable time after an application's last certificate expires
(``IPC_RETENTION_DAYS_AFTER_EXPIRY``) or after it was withdrawn
(``IPC_RETENTION_DAYS_AFTER_WITHDRAWAL``), its identity and record details
are erased: names, date and place of birth, nationalities, the identity
document, the purpose, the residence history, the agencies' records, officers'
questions and replies, the certificate's stored token and its PDF file. What
remains answers verification: each certificate's number, status, dates, the
PDF's hash, and a keyed hash of the date of birth for typed verification.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, datetime, timedelta
from typing import Protocol

from sqlalchemy import and_, delete, func, or_, select

from certificate.admin.models import Decision, PendingAction
from certificate.agency.models import CheckQuestion
from certificate.applications.models import Application, ApplicationStatus, Residence
from certificate.audit import record_event
from certificate.checks.models import FINAL_STATUSES, Check
from certificate.db import DbSession
from certificate.encryption import keyring
from certificate.issuance.models import Certificate
from certificate.issuance.service import pdf_name
from certificate.storage import FileStore


class NotWithdrawable(Exception):
    """Only an application still in progress can be withdrawn."""


def dob_digest(certificate_id: str, date_of_birth: date, kid: str | None = None) -> str:
    """``kid:hex``: the date of birth keyed with a data key, bound to one certificate."""
    ring = keyring()
    kid = kid or ring.current
    message = f"{certificate_id}|{date_of_birth.isoformat()}".encode()
    return f"{kid}:{hmac.new(ring.keys[kid], message, hashlib.sha256).hexdigest()}"


class HolderBirthDate(Protocol):
    """What :func:`dob_matches` reads: an ORM certificate or a verification's lookup record."""

    @property
    def id(self) -> str: ...
    @property
    def holder_date_of_birth(self) -> date | None: ...
    @property
    def holder_dob_hash(self) -> str | None: ...


def dob_matches(certificate: HolderBirthDate, date_of_birth: date | None) -> bool:
    """Whether ``date_of_birth`` is the holder's, before or after purging (constant time)."""
    given = date_of_birth or date.min
    if certificate.holder_date_of_birth is not None:
        return hmac.compare_digest(certificate.holder_date_of_birth.isoformat(), given.isoformat())
    if not certificate.holder_dob_hash:
        return False
    kid = certificate.holder_dob_hash.partition(":")[0]
    if kid not in keyring().keys:
        return False
    return hmac.compare_digest(certificate.holder_dob_hash, dob_digest(certificate.id, given, kid))


def withdraw(session: DbSession, application: Application, *, now: datetime, actor: str) -> None:
    """Withdraw an application in progress (or awaiting identity): no more checks, no certificate."""
    if application.status not in (
        ApplicationStatus.IN_PROGRESS.value,
        ApplicationStatus.AWAITING_IDENTITY.value,
    ):
        raise NotWithdrawable(application.id)
    # the checks' rows first, then the application's: the order in which an answer takes
    # them (one racing this withdrawal then waits for it, instead of deadlocking with it)
    session.scalars(
        select(Check)
        .where(Check.application_id == application.id)
        .order_by(Check.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    application.status = ApplicationStatus.WITHDRAWN.value
    application.withdrawn_at = now
    for check in application.checks:
        if check.status not in FINAL_STATUSES:
            check.next_attempt_at = None
            check.lease_until = None
    record_event(
        session,
        actor=actor,
        action="application.withdrawn",
        subject_type="application",
        subject_id=application.id,
        at=now,
    )


def purge_application(
    session: DbSession, application: Application, files: FileStore, *, now: datetime
) -> None:
    """Erase the application's personal data, keeping what verification needs."""
    for certificate in application.certificates:
        if certificate.holder_date_of_birth is not None:
            certificate.holder_dob_hash = dob_digest(
                certificate.id, certificate.holder_date_of_birth
            )
        certificate.holder_date_of_birth = None
        certificate.token = None
        certificate.token_mac = None
        files.delete(pdf_name(certificate.id))
    application.family_name = ""
    application.given_names = ""
    application.latin_family_name = None
    application.latin_given_names = None
    application.other_names = []
    application.date_of_birth = None
    application.birth_city = ""
    application.nationalities = []
    application.document_number = None
    application.document_expires = None
    application.purpose = ""
    application.purged_at = now
    check_ids = [check.id for check in application.checks]
    for check in application.checks:
        check.records = []
    session.execute(delete(Residence).where(Residence.application_id == application.id))
    if check_ids:
        session.execute(delete(CheckQuestion).where(CheckQuestion.check_id.in_(check_ids)))
    _close_pending_actions(session, [*check_ids, *(c.id for c in application.certificates)], now)
    session.expire(application, ["residences"])
    record_event(
        session,
        actor="system",
        action="application.purged",
        subject_type="application",
        subject_id=application.id,
        at=now,
    )


def _close_pending_actions(session: DbSession, subject_ids: list[str], now: datetime) -> None:
    """Requests awaiting a second admin about purged data are rejected, and their copy of
    any records erased."""
    if not subject_ids:
        return
    open_actions = session.scalars(
        select(PendingAction).where(
            PendingAction.subject_id.in_(subject_ids), PendingAction.decision.is_(None)
        )
    )
    for action in open_actions:
        action.decision = Decision.REJECTED.value
        action.decided_at = now
        action.decision_note = "personal data purged at the end of its lifetime"
        action.payload = None


def due_for_purge(
    session: DbSession,
    now: datetime,
    *,
    after_expiry: timedelta,
    after_withdrawal: timedelta,
    limit: int = 200,
) -> list[str]:
    """Applications whose personal data has outlived its purpose."""
    last_expiry = (
        select(func.max(Certificate.expires_at))
        .where(Certificate.application_id == Application.id)
        .scalar_subquery()
    )
    return list(
        session.scalars(
            select(Application.id)
            .where(
                Application.purged_at.is_(None),
                or_(
                    and_(
                        Application.status == ApplicationStatus.WITHDRAWN.value,
                        Application.withdrawn_at <= now - after_withdrawal,
                    ),
                    # a refused identity ends the application like a withdrawal
                    and_(
                        Application.status == ApplicationStatus.IDENTITY_REFUSED.value,
                        Application.completed_at <= now - after_withdrawal,
                    ),
                    and_(
                        Application.status == ApplicationStatus.COMPLETE.value,
                        last_expiry <= now - after_expiry,
                    ),
                ),
            )
            .limit(limit)
        )
    )


def purge_due(
    session: DbSession,
    files: FileStore,
    *,
    now: datetime,
    after_expiry: timedelta,
    after_withdrawal: timedelta,
) -> list[str]:
    """Purge every application that is due; returns their ids."""
    purged = due_for_purge(
        session, now, after_expiry=after_expiry, after_withdrawal=after_withdrawal
    )
    for application_id in purged:
        application = session.get(Application, application_id)
        if application is not None:
            purge_application(session, application, files, now=now)
    return purged
