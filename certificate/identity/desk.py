"""The ID checker's decision, shared by the identity-check API and page (inside their transaction)."""

from __future__ import annotations

from certificate.auth.models import User
from certificate.db import db, utcnow
from certificate.identity import proofing_mode, verifiers
from certificate.identity import service as identity
from certificate.identity.models import IdentityProof
from certificate.identity.verifiers import DocumentSeen
from certificate.organisations.models import Organisation
from certificate.runtime import runtime
from certificate.web.transaction import after_commit


def record_check(
    checker: User, code: str, decision: str, documents: list[DocumentSeen]
) -> tuple[IdentityProof, Organisation]:
    """Store the checker's decision; the checks it makes due are sent once it commits.

    Raises what :func:`certificate.identity.service.check_in_person` raises;
    the calling view's transaction then keeps nothing.
    """
    organisation = db.session.get(Organisation, checker.organisation_id or "")
    if organisation is None:  # pragma: no cover - create_user refuses a checker without one
        raise identity.IdentityCodeNotFound(code)
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
    after_commit(lambda: submit_checks(due))
    return proof, organisation


def submit_checks(check_ids: list[str]) -> None:
    """Hand the checks an identity decision made due to the job engine."""
    for check_id in check_ids:
        runtime().jobs.submit_check(check_id)
