"""``POST /api/v1/identity-checks``: an ID checker confirms or refuses an identity in person."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from certificate.api_common import json_body, parse, respond
from certificate.auth.bearer import api_user, require_bearer
from certificate.auth.models import Role
from certificate.errors import ApiError
from certificate.identity import service as identity
from certificate.identity.desk import record_check
from certificate.identity.schemas import IdentityCheckIn, IdentityCheckOut
from certificate.identity.verifiers import DocumentSeen, EvidenceMismatch
from certificate.openapi import BEARER, operation
from certificate.web.transaction import transactional

bp = Blueprint("identity_api", __name__, url_prefix="/api/v1")


@bp.post("/identity-checks")
@operation(
    "An ID checker confirms or refuses an identity in person",
    body=IdentityCheckIn,
    responses={200: IdentityCheckOut},
    errors=(400, 401, 403, 404, 409, 415),
    security=BEARER,
)
@require_bearer(Role.ID_CHECKER)
@transactional(
    {
        identity.IdentityCodeNotFound: lambda _: ApiError(
            404,
            "not_found",
            "No application waits for its identity under this code.",
            {"code": "is not a pending identity code"},
        ),
        identity.IdentityAlreadyDecided: lambda _: ApiError(
            409, "already_decided", "This identity has already been confirmed or refused."
        ),
        EvidenceMismatch: lambda exc: ApiError(
            409, "document_mismatch", f"{exc.field}: {exc}", {exc.field: str(exc)}
        ),
    }
)
def identity_check() -> ResponseReturnValue:
    """Record what the checker saw; 409 when a document contradicts the application."""
    data = parse(IdentityCheckIn, json_body())
    documents = [DocumentSeen(d.type, d.number, d.issuing_country) for d in data.documents_seen]
    proof, organisation = record_check(api_user(), data.code, data.decision, documents)
    decided = proof.decided_at
    return respond(
        IdentityCheckOut(
            code=proof.code,
            status=proof.status,  # type: ignore[arg-type]
            method=proof.method or "",
            organisation=organisation.name,
            decided_at=decided.isoformat().replace("+00:00", "Z") if decided else "",
        )
    )
