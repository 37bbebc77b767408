"""The organisations' JSON API: API keys (and, below, requests and webhooks)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request
from flask.typing import ResponseReturnValue

from certificate.api_common import json_body, parse, respond
from certificate.auth.bearer import api_user, bearer_user, require_bearer
from certificate.auth.models import Role
from certificate.db import db, utcnow
from certificate.errors import ApiError
from certificate.openapi import BEARER, operation
from certificate.organisations import batch, requests, service, webhooks
from certificate.organisations.models import CandidateRequest, Organisation
from certificate.organisations.schemas import (
    ApiKeyIn,
    ApiKeyOut,
    BatchIn,
    BatchOut,
    RequestCreated,
    RequestIn,
    RequestList,
    RequestOut,
    ShareIn,
    WebhookCreated,
    WebhookIn,
)
from certificate.runtime import runtime
from certificate.web.transaction import transactional

bp = Blueprint("organisations_api", __name__, url_prefix="/api/v1")


def _no_request(_: Exception) -> ApiError:
    return ApiError(404, "not_found", "No such request.")


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
@transactional()
def create_api_key(organisation_id: str) -> ResponseReturnValue:
    """A new API key for the caller's organisation, shown once."""
    organisation = _own_organisation(organisation_id)
    data = parse(ApiKeyIn, json_body()) if request.get_data() else ApiKeyIn()
    row, key = service.create_api_key(
        db.session, organisation, name=data.name, actor=f"user:{api_user().id}", now=utcnow()
    )
    return respond(ApiKeyOut(id=row.id, key=key), 201)


@bp.delete("/organisations/<organisation_id>/api-keys/<key_id>")
@operation(
    "Revoke one of the organisation's API keys, at once",
    responses={204: "Revoked"},
    errors=(401, 403, 404),
    security=BEARER,
)
@require_bearer(Role.EMPLOYER)
@transactional(
    {
        service.ApiKeyNotFound: lambda _: ApiError(
            404, "not_found", "No such API key of this organisation."
        )
    }
)
def revoke_api_key(organisation_id: str, key_id: str) -> ResponseReturnValue:
    """Revoke one of the organisation's keys, effective at once."""
    organisation = _own_organisation(organisation_id)
    service.revoke_api_key(
        db.session, organisation.id, key_id, actor=f"user:{api_user().id}", now=utcnow()
    )
    return Response(status=204)


def acting_organisation() -> tuple[Organisation, str]:
    """The organisation behind this request's credentials: an API key, or an employer's token.

    Returns it with the audit actor; 401 without valid credentials, 403 for other roles.
    """
    header = request.headers.get("Authorization", "")
    scheme, _, credential = header.partition(" ")
    credential = credential.strip()
    if scheme.lower() == "bearer" and credential.startswith(service.KEY_PREFIX):
        organisation = service.organisation_for_key(db.session, credential, utcnow())
        if organisation is None:
            raise ApiError(
                401,
                "unauthorized",
                "A valid API key is required.",
                headers={"WWW-Authenticate": 'Bearer realm="ipc"'},
            )
        return organisation, f"organisation:{organisation.id}"
    user = bearer_user()
    if user.role != Role.EMPLOYER.value or user.organisation_id is None:
        raise ApiError(403, "forbidden", "This account may not use this endpoint.")
    organisation = db.session.get(Organisation, user.organisation_id)
    if organisation is None:  # pragma: no cover - members always have one
        raise ApiError(403, "forbidden", "This account belongs to no organisation.")
    return organisation, f"user:{user.id}"


@bp.post("/requests")
@operation(
    "Ask a candidate by e-mail (employer token or organisation API key)",
    body=RequestIn,
    responses={201: RequestCreated},
    errors=(400, 401, 403, 415),
    security=BEARER,
)
@transactional()
def create_request() -> ResponseReturnValue:
    """Ask a candidate, by e-mail, for their certificate."""
    organisation, actor = acting_organisation()
    data = parse(RequestIn, json_body())
    item = requests.create_request(
        db.session,
        organisation,
        email=str(data.email),
        purpose=data.purpose,
        language=data.language,
        actor=actor,
        now=utcnow(),
    )
    return respond(
        RequestCreated(id=item.id, link=f"{current_app.config['BASE_URL']}/requests/{item.id}"),
        201,
    )


@bp.get("/requests")
@operation(
    "The organisation's requests; a shared one with its certificate's current answer",
    responses={200: RequestList},
    errors=(401, 403),
    security=BEARER,
)
@transactional()  # the keys' last use
def list_requests() -> ResponseReturnValue:
    """The organisation's requests; a shared one carries its certificate's current answer."""
    organisation, _actor = acting_organisation()
    verifier, now = runtime().verifier, utcnow()
    items = []
    for item in requests.organisation_requests(db.session, organisation.id):
        answer = requests.current_answer(verifier, organisation, item, now)
        items.append(
            RequestOut(
                id=item.id,
                email=item.email,
                purpose=item.purpose,
                status=item.status,  # type: ignore[arg-type]
                certificate=answer.as_dict() if answer is not None else None,
            )
        )
    return respond(RequestList(requests=items))


@bp.post("/requests/<request_id>/share")
@operation(
    "The candidate shares one of their applications (consent)",
    body=ShareIn,
    responses={200: RequestOut},
    errors=(400, 401, 403, 404, 415),
    security=BEARER,
)
@require_bearer(Role.APPLICANT)
@transactional(
    {
        requests.RequestNotFound: _no_request,
        requests.NotShareable: lambda _: ApiError(
            404,
            "not_found",
            "No such application of yours.",
            {"application_id": "is not one of your applications"},
        ),
    }
)
def share(request_id: str) -> ResponseReturnValue:
    """The candidate shares one of their applications with the organisation that asked."""
    data = parse(ShareIn, json_body())
    item = requests.share(db.session, request_id, api_user(), data.application_id, now=utcnow())
    return respond(_candidate_view(item))


@bp.delete("/requests/<request_id>/share")
@operation(
    "The candidate stops sharing; the organisation sees nothing more of it",
    responses={200: RequestOut},
    errors=(401, 403, 404),
    security=BEARER,
)
@require_bearer(Role.APPLICANT)
@transactional({requests.RequestNotFound: _no_request})
def stop_sharing(request_id: str) -> ResponseReturnValue:
    """The candidate stops sharing: the organisation sees nothing more of it."""
    item = requests.stop_sharing(db.session, request_id, api_user(), now=utcnow())
    return respond(_candidate_view(item))


def _candidate_view(item: CandidateRequest) -> RequestOut:
    return RequestOut(
        id=item.id,
        email=item.email,
        purpose=item.purpose,
        status=item.status,  # type: ignore[arg-type]
        certificate=None,
    )


@bp.post("/webhooks")
@operation(
    "Register a webhook endpoint (Standard Webhooks signatures); the secret is shown once",
    body=WebhookIn,
    responses={201: WebhookCreated},
    errors=(400, 401, 403, 415),
    security=BEARER,
)
@require_bearer(Role.EMPLOYER)
@transactional(
    {
        service.OrganisationError: lambda exc: ApiError(
            400, "invalid_request", f"{exc.field}: {exc}", {exc.field: str(exc)}
        )
    }
)
def create_webhook() -> ResponseReturnValue:
    """Register an endpoint for the organisation's events; the secret is shown once."""
    data = parse(WebhookIn, json_body())
    user = api_user()
    organisation = db.session.get(Organisation, user.organisation_id or "")
    if organisation is None:  # pragma: no cover - members always have one
        raise ApiError(403, "forbidden", "This account belongs to no organisation.")
    hook = webhooks.create_webhook(
        db.session,
        organisation,
        url=data.url,
        events=data.events,
        allow_private=bool(current_app.config["WEBHOOK_ALLOW_PRIVATE"]),
        actor=f"user:{user.id}",
        now=utcnow(),
    )
    return respond(WebhookCreated(id=hook.id, secret=hook.secret), 201)


@bp.delete("/webhooks/<webhook_id>")
@operation(
    "Stop sending events to one of the organisation's webhook endpoints, at once",
    responses={204: "Disabled"},
    errors=(401, 403, 404),
    security=BEARER,
)
@require_bearer(Role.EMPLOYER)
@transactional(
    {
        webhooks.WebhookNotFound: lambda _: ApiError(
            404, "not_found", "No such webhook of this organisation."
        )
    }
)
def disable_webhook(webhook_id: str) -> ResponseReturnValue:
    """Disable one of the organisation's endpoints; another organisation's is a 404."""
    user = api_user()
    webhooks.disable_webhook(
        db.session, user.organisation_id or "", webhook_id, actor=f"user:{user.id}", now=utcnow()
    )
    return Response(status=204)


def _organisation_by_key() -> Organisation:
    """The organisation of this request's API key; 401 for anything else."""
    header = request.headers.get("Authorization", "")
    scheme, _, credential = header.partition(" ")
    organisation = (
        service.organisation_for_key(db.session, credential.strip(), utcnow())
        if scheme.lower() == "bearer"
        else None
    )
    if organisation is None:
        raise ApiError(
            401,
            "unauthorized",
            "An organisation's API key is required.",
            headers={"WWW-Authenticate": 'Bearer realm="ipc"'},
        )
    return organisation


def _batch_item(index: int, item: dict[str, Any]) -> batch.Item:
    """One item as a token or a typed number; 400 naming ``items.N.field`` otherwise."""
    try:
        return batch.parse_item(item)
    except batch.BadItem as exc:
        fields = {f"items.{index}.{k}": v for k, v in exc.fields.items()}
        raise ApiError(
            400, "invalid_request", f"Item {index} is not a token or a typed number.", fields
        ) from exc


@bp.post("/verify/batch")
@operation(
    "Verify up to 1,000 certificates at once, in order (organisation API key)",
    body=BatchIn,
    responses={200: BatchOut},
    errors=(400, 401, 415),
    security=BEARER,
)
@transactional()  # the key's last use
def verify_batch() -> ResponseReturnValue:
    """Each item's v2 verification answer, recorded under the organisation's registered name."""
    organisation = _organisation_by_key()
    data = parse(BatchIn, json_body())
    items = [_batch_item(i, item) for i, item in enumerate(data.items)]
    answers = batch.verify_items(runtime().verifier, items, organisation, utcnow())
    results = [answer.as_dict() for answer in answers]
    response, status = respond(BatchOut(results=results))
    response.headers["Cache-Control"] = "no-store"
    return response, status
