"""Identity before any agency is asked.

A new application waits in ``awaiting_identity``: its checks are queued but
held (their deadline does not run and no worker picks them up), so no agency
sees anything. When the identity is confirmed, and the account's e-mail
address is verified, the checks are released; when it is refused, the
application ends ``identity_refused`` and no agency ever sees it.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select

from certificate.applications.models import Application, ApplicationStatus
from certificate.audit import record_event
from certificate.auth.models import User
from certificate.checks.models import CheckStatus
from certificate.checks.service import pause_deadline, resume_deadline
from certificate.db import DbSession
from certificate.identity.models import IdentityProof, IdentityStatus
from certificate.identity.verifiers import (
    Decision,
    DocumentSeen,
    EvidenceMismatch,
    IdentityVerifier,
    StatedIdentity,
)

REQUIRED = "required"
SANDBOX = "sandbox"

# Letters and digits without the ones people confuse (0/O, 1/I/L, U/V).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"
CODE_LENGTH = 8


class IdentityCodeNotFound(Exception):
    """No application waits for its identity under this code."""


class IdentityAlreadyDecided(Exception):
    """The identity of this application has already been confirmed or refused."""


def new_code(session: DbSession) -> str:
    """A fresh identity code: 8 letters and digits, unused by any other proof."""
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if session.scalar(select(IdentityProof.id).where(IdentityProof.code == code)) is None:
            return code


def normalise_code(typed: str) -> str:
    """A typed code, forgiving case, spaces and hyphens."""
    return "".join(ch for ch in typed.upper() if ch.isalnum())


def stated_identity(application: Application) -> StatedIdentity:
    """What the application says about the person, for a verifier to compare against."""
    identity = application.identity()
    latin_family, latin_given = application.latin_name()
    apart = application.latin_family_name is not None
    return StatedIdentity(
        family_name=application.family_name,
        given_names=application.given_names,
        latin_family_name=latin_family if apart else None,
        latin_given_names=latin_given if apart else None,
        date_of_birth=identity.date_of_birth,
        document=DocumentSeen(
            type=application.document_type,
            number=identity.document_number,
            issuing_country=application.document_country,
        ),
    )


def begin_proofing(
    session: DbSession,
    application: Application,
    *,
    mode: str,
    verifiers: Mapping[str, IdentityVerifier],
    email_verified: bool,
    now: datetime,
) -> list[str]:
    """Hold a new application until its identity is confirmed. Returns check ids now due.

    In sandbox mode the sandbox verifier decides at once.
    """
    application.status = ApplicationStatus.AWAITING_IDENTITY.value
    for check in application.checks:
        if check.status == CheckStatus.QUEUED.value:
            check.next_attempt_at = None
            pause_deadline(check, now=now)
    proof = IdentityProof(application=application, code=new_code(session), created_at=now)
    session.add(proof)
    session.flush()
    if mode == SANDBOX:
        decision = verifiers["sandbox"].verify(stated_identity(application), {})
        return decide(
            session,
            proof,
            decision,
            method="sandbox",
            actor="system",
            email_verified=email_verified,
            now=now,
        )
    return []


def decide(
    session: DbSession,
    proof: IdentityProof,
    decision: Decision,
    *,
    method: str,
    actor: str,
    email_verified: bool,
    now: datetime,
    organisation_id: str | None = None,
    checker_id: str | None = None,
) -> list[str]:
    """Store a verifier's decision; on confirmation release the checks when the owner may.

    Returns the ids of checks that became due. IdentityAlreadyDecided when
    the proof is no longer pending.
    """
    if proof.status != IdentityStatus.PENDING.value:
        raise IdentityAlreadyDecided(proof.application_id)
    proof.status = (
        IdentityStatus.CONFIRMED if decision.confirmed else IdentityStatus.REFUSED
    ).value
    proof.method = method
    proof.vouched_by = decision.vouched_by
    proof.organisation_id = organisation_id
    proof.checker_id = checker_id
    proof.decided_at = now
    application = proof.application
    record_event(
        session,
        actor=actor,
        action=f"identity.{proof.status}",
        subject_type="application",
        subject_id=application.id,
        details={"method": method, "vouched_by": decision.vouched_by, "reason": decision.reason},
        at=now,
    )
    if not decision.confirmed:
        application.status = ApplicationStatus.IDENTITY_REFUSED.value
        application.completed_at = now
        return []
    return release_if_ready(session, application, email_verified=email_verified, now=now)


def release_if_ready(
    session: DbSession, application: Application, *, email_verified: bool, now: datetime
) -> list[str]:
    """Let the agencies be asked, once the identity is confirmed and the e-mail verified.

    Returns the ids of the checks that became due (for the job engine);
    nothing when the application is not waiting or not ready.
    """
    proof = application.identity_proof
    if (
        application.status != ApplicationStatus.AWAITING_IDENTITY.value
        or proof is None
        or proof.status != IdentityStatus.CONFIRMED.value
        or not email_verified
    ):
        return []
    application.status = ApplicationStatus.IN_PROGRESS.value
    due: list[str] = []
    for check in application.checks:
        if check.status == CheckStatus.QUEUED.value:
            resume_deadline(check, now=now)
            check.next_attempt_at = now
            due.append(check.id)
    record_event(
        session,
        actor="system",
        action="application.released",
        subject_type="application",
        subject_id=application.id,
        details={"countries": [c.country for c in application.checks if c.id in due]},
        at=now,
    )
    return due


def awaiting_for_user(session: DbSession, user_id: str) -> list[Application]:
    """The user's applications still waiting for their identity or e-mail address."""
    return list(
        session.scalars(
            select(Application).where(
                Application.user_id == user_id,
                Application.status == ApplicationStatus.AWAITING_IDENTITY.value,
            )
        )
    )


def pending_by_code(session: DbSession, typed: str) -> IdentityProof:
    """The pending proof with this code; IdentityCodeNotFound for any other."""
    code = normalise_code(typed)
    proof = (
        session.scalars(select(IdentityProof).where(IdentityProof.code == code)).first()
        if len(code) == CODE_LENGTH
        else None
    )
    if proof is None or proof.application.purged_at is not None:
        raise IdentityCodeNotFound(typed)
    return proof


def identity_view(proof: IdentityProof | None) -> dict[str, Any] | None:
    """The ``identity`` object of the application as its owner sees it."""
    if proof is None:
        return None
    confirmed = proof.confirmed_at
    return {
        "status": proof.status,
        "code": proof.code,
        "method": proof.method,
        "vouched_by": proof.vouched_by,
        "confirmed_at": confirmed.isoformat().replace("+00:00", "Z") if confirmed else None,
    }


def email_ok(user: User, mode: str) -> bool:
    """Whether the account's e-mail address lets its applications reach an agency."""
    return mode == SANDBOX or user.email_verified_at is not None


def check_in_person(
    session: DbSession,
    *,
    checker: User,
    organisation_name: str,
    code: str,
    decision: str,
    documents: list[DocumentSeen],
    verifier: IdentityVerifier,
    mode: str,
    now: datetime,
) -> tuple[IdentityProof, list[str]]:
    """An ID checker's decision about the person who showed ``code``.

    Returns the proof and the ids of checks now due. Raises
    IdentityCodeNotFound, IdentityAlreadyDecided, or EvidenceMismatch when
    the documents seen contradict the application (nothing is stored then).
    """
    proof = pending_by_code(session, code)
    if proof.application.status not in (
        ApplicationStatus.AWAITING_IDENTITY.value,
        ApplicationStatus.IN_PROGRESS.value,
        ApplicationStatus.COMPLETE.value,
        ApplicationStatus.IDENTITY_REFUSED.value,
    ):
        raise IdentityCodeNotFound(code)  # withdrawn: nobody is waiting any more
    if proof.status != IdentityStatus.PENDING.value:
        raise IdentityAlreadyDecided(proof.application_id)
    application = proof.application
    result = verifier.verify(
        stated_identity(application),
        {"decision": decision, "documents_seen": documents, "organisation": organisation_name},
    )
    owner = session.get(User, application.user_id)
    due = decide(
        session,
        proof,
        result,
        method=verifier.method,
        actor=f"user:{checker.id}",
        email_verified=owner is not None and email_ok(owner, mode),
        now=now,
        organisation_id=checker.organisation_id,
        checker_id=checker.id,
    )
    return proof, due


def confirm_through_provider(
    session: DbSession,
    application: Application,
    *,
    owner: User,
    provider: str,
    label: str,
    claims: dict[str, Any],
    verifier: IdentityVerifier,
    mode: str,
    now: datetime,
) -> list[str]:
    """An identity provider's checked claims about the owner of ``application``.

    Returns the ids of checks now due. Raises IdentityAlreadyDecided when the
    application no longer waits for its identity, and EvidenceMismatch when
    the claims differ from the application: then the application keeps
    waiting, and only an audit event of the attempt (the claims' names, not
    their values) is stored.
    """
    proof = application.identity_proof
    if (
        application.status != ApplicationStatus.AWAITING_IDENTITY.value
        or proof is None
        or proof.status != IdentityStatus.PENDING.value
    ):
        raise IdentityAlreadyDecided(application.id)
    try:
        decision = verifier.verify(
            stated_identity(application), {"claims": claims, "provider": label}
        )
    except EvidenceMismatch as exc:
        record_event(
            session,
            actor=f"user:{owner.id}",
            action="identity.mismatch",
            subject_type="application",
            subject_id=application.id,
            details={"method": verifier.method, "provider": provider, "claims": exc.field},
            at=now,
        )
        raise
    return decide(
        session,
        proof,
        decision,
        method=verifier.method,
        actor=f"user:{owner.id}",
        email_verified=email_ok(owner, mode),
        now=now,
    )
