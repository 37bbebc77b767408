"""The organisations' JSON API: API keys (and, below, requests and webhooks)."""

from __future__ import annotations

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue

from certificate.api_common import json_body, parse, respond
from certificate.auth.bearer import api_user, require_bearer
from certificate.auth.models import Role
from certificate.db import db, utcnow
from certificate.errors import ApiError
from certificate.openapi import BEARER, operation
from certificate.organisations import service
from certificate.organisations.models import Organisation
from certificate.organisations.schemas import ApiKeyIn, ApiKeyOut

bp = Blueprint("organisations_api", __name__, url_prefix="/api/v1")


def _own_organisation(organisation_id: str) -> Organisation:
    """The caller's own organisation; 404 for any other (whether or not it exists)."""
    user = api_user()
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None or user.organisation_id != organisation.id:
        raise ApiError(404, "not_found", "No such organisation among yours.")
    return organisation


@bp.post("/organisations/<organisation_id>/api-keys")
@operation(
    "A new API key of the caller's organisation (shown once)",
    body=ApiKeyIn,
    responses={201: ApiKeyOut},
    errors=(400, 401, 403, 404, 415),
    security=BEARER,
)
@require_bearer(Role.EMPLOYER)
def create_api_key(organisation_id: str) -> ResponseReturnValue:
    """A new API key for the caller's organisation, shown once."""
    organisation = _own_organisation(organisation_id)
    data = parse(ApiKeyIn, json_body()) if request.get_data() else ApiKeyIn()
    row, key = service.create_api_key(
        db.session, organisation, name=data.name, actor=f"user:{api_user().id}", now=utcnow()
    )
    db.session.commit()
    return respond(ApiKeyOut(id=row.id, key=key), 201)


@bp.delete("/organisations/<organisation_id>/api-keys/<key_id>")
@operation(
    "Revoke one of the organisation's API keys, at once",
    responses={204: "Revoked"},
    errors=(401, 403, 404),
    security=BEARER,
)
@require_bearer(Role.EMPLOYER)
def revoke_api_key(organisation_id: str, key_id: str) -> ResponseReturnValue:
    """Revoke one of the organisation's keys, effective at once."""
    organisation = _own_organisation(organisation_id)
    try:
        service.revoke_api_key(
            db.session, organisation.id, key_id, actor=f"user:{api_user().id}", now=utcnow()
        )
    except service.ApiKeyNotFound as exc:
        raise ApiError(404, "not_found", "No such API key of this organisation.") from exc
    db.session.commit()
    return Response(status=204)
