"""The ID checker's decision, shared by the identity-check API and page."""

from __future__ import annotations

from certificate.auth.models import User
from certificate.db import db, utcnow
from certificate.identity import proofing_mode, verifiers
from certificate.identity import service as identity
from certificate.identity.models import IdentityProof
from certificate.identity.verifiers import DocumentSeen
from certificate.organisations.models import Organisation
from certificate.runtime import runtime


def record_check(
    checker: User, code: str, decision: str, documents: list[DocumentSeen]
) -> tuple[IdentityProof, Organisation]:
    """Store the checker's decision, commit, and release the checks it makes due.

    Raises what :func:`certificate.identity.service.check_in_person` raises,
    with nothing stored.
    """
    organisation = db.session.get(Organisation, checker.organisation_id or "")
    if organisation is None:  # pragma: no cover - create_user refuses a checker without one
        raise identity.IdentityCodeNotFound(code)
    try:
        proof, due = identity.check_in_person(
            db.session,
            checker=checker,
            organisation_name=organisation.short_name,
            code=code,
            decision=decision,
            documents=documents,
            verifier=verifiers()["in_person"],
            mode=proofing_mode(),
            now=utcnow(),
        )
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    for check_id in due:
        runtime().jobs.submit_check(check_id)
    return proof, organisation
