"""``/api/v1/applications``: file, list, read, and fetch the certificate PDF."""

from __future__ import annotations

from collections.abc import Sequence

from flask import Blueprint, Response, current_app, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.interfaces import ORMOption

from certificate.api_common import json_body, parse, respond
from certificate.applications import service
from certificate.applications.models import Application
from certificate.applications.presenters import APPLICATION_OUT_LOADING, application_out
from certificate.applications.schemas import ApplicationIn, ApplicationList, ApplicationOut
from certificate.audit import record_event
from certificate.auth.bearer import api_user, require_bearer
from certificate.auth.models import Role, User
from certificate.db import db, utcnow
from certificate.errors import ApiError
from certificate.i18n import N_
from certificate.identity import proofing_mode, verifiers
from certificate.identity import service as identity
from certificate.issuance.service import pdf_name, settle_document
from certificate.openapi import BEARER, operation
from certificate.retention import NotWithdrawable, withdraw
from certificate.runtime import runtime
from certificate.web.transaction import after_commit, transactional

bp = Blueprint("applications_api", __name__, url_prefix="/api/v1/applications")

_MAX_KEY = 200
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "maxLength": _MAX_KEY},
}
_OUT = {
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApplicationOut"}}}
}
PDF_RESPONSE = {
    "description": "PDF",
    "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
}


def _not_found() -> ApiError:
    return ApiError(404, "not_found", N_("No such application."))


def _owned(user: User, application_id: str, loading: Sequence[ORMOption] = ()) -> Application:
    try:
        return service.get_owned(db.session, user, application_id, loading=loading)
    except service.ApplicationNotFound as exc:
        raise _not_found() from exc


def email_may_proceed(user: User) -> bool:
    """Whether the account's e-mail address lets its applications reach an agency."""
    return identity.email_ok(user, proofing_mode())


def file_and_dispatch(
    user: User, data: ApplicationIn, idempotency_key: str | None
) -> tuple[Application, bool]:
    """File an application and hold it for its identity, in the calling view's transaction.

    The checks it makes due go to the engine once that transaction commits.
    """
    rt = runtime()

    def attempt() -> tuple[Application, bool]:
        now = utcnow()
        return service.file_application(
            db.session,
            user,
            data,
            adapters=rt.registry.get,
            default_deadline=rt.default_deadline,
            now=now,
            idempotency_key=idempotency_key,
        )

    due: list[str] = []
    try:
        with db.session.begin_nested():
            application, created = attempt()
            if created:
                due = identity.begin_proofing(
                    db.session,
                    application,
                    mode=proofing_mode(),
                    verifiers=verifiers(),
                    email_verified=email_may_proceed(user),
                    now=utcnow(),
                )
    except IntegrityError:
        # a concurrent retry with the same key committed first: answer with its result
        if not idempotency_key:
            raise
        application, created = attempt()

    def dispatch() -> None:
        for check_id in due:
            rt.jobs.submit_check(check_id)

    after_commit(dispatch)
    return application, created


@bp.post("")
@operation(
    "File an application",
    body=ApplicationIn,
    responses={201: ApplicationOut, 200: {"description": "A retry of an earlier filing", **_OUT}},
    errors=(400, 401, 403, 415, 422),
    security=BEARER,
    parameters=[IDEMPOTENCY_KEY],
)
@require_bearer(Role.APPLICANT)
@transactional(
    {
        service.IdempotencyConflict: lambda _: ApiError(
            422,
            "idempotency_key_reused",
            N_("This Idempotency-Key was already used for a different application."),
            {"Idempotency-Key": "was used for a different request body"},
        )
    }
)
def create() -> ResponseReturnValue:
    """File an application; an ``Idempotency-Key`` makes a retry safe."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and not (0 < len(key.strip()) <= _MAX_KEY):
        raise ApiError(
            400,
            "invalid_request",
            N_("Idempotency-Key must be 1 to 200 characters."),
            {"Idempotency-Key": "must be 1 to 200 characters"},
        )
    data = parse(ApplicationIn, json_body())
    application, created = file_and_dispatch(api_user(), data, key.strip() if key else None)
    body = application_out(application, base_url=current_app.config["BASE_URL"], now=utcnow())
    response, status = respond(body, 201 if created else 200)
    response.headers["Location"] = f"/api/v1/applications/{application.id}"
    return response, status


@bp.get("")
@operation(
    "The caller's applications",
    responses={200: ApplicationList},
    errors=(401, 403),
    security=BEARER,
)
@require_bearer(Role.APPLICANT)
def list_applications() -> ResponseReturnValue:
    """The caller's applications, newest first."""
    now = utcnow()
    base = current_app.config["BASE_URL"]
    items = [
        application_out(a, base_url=base, now=now)
        for a in service.list_owned(db.session, api_user())
    ]
    return respond(ApplicationList(applications=items))


@bp.get("/<application_id>")
@operation(
    "One application", responses={200: ApplicationOut}, errors=(401, 403, 404), security=BEARER
)
@require_bearer(Role.APPLICANT)
def read(application_id: str) -> ResponseReturnValue:
    """One of the caller's applications."""
    application = _owned(api_user(), application_id, APPLICATION_OUT_LOADING)
    return respond(
        application_out(application, base_url=current_app.config["BASE_URL"], now=utcnow())
    )


@bp.post("/<application_id>/withdraw")
@operation(
    "Withdraw an application in progress",
    responses={200: ApplicationOut},
    errors=(401, 403, 404, 409),
    security=BEARER,
)
@require_bearer(Role.APPLICANT)
@transactional(
    {
        NotWithdrawable: lambda _: ApiError(
            409, "conflict", N_("Only an application in progress can be withdrawn.")
        )
    }
)
def withdraw_application(application_id: str) -> ResponseReturnValue:
    """Withdraw an application still in progress; its personal data is purged later."""
    application = _owned(api_user(), application_id)
    withdraw(db.session, application, now=utcnow(), actor=f"user:{api_user().id}")
    return respond(
        application_out(application, base_url=current_app.config["BASE_URL"], now=utcnow())
    )


@bp.get("/<application_id>/certificate.pdf")
@operation(
    "The certificate PDF", responses={200: PDF_RESPONSE}, errors=(401, 403, 404), security=BEARER
)
@require_bearer(Role.APPLICANT)
@transactional()  # the download is audited
def certificate_pdf(application_id: str) -> ResponseReturnValue:
    """The certificate PDF, to its owner only."""
    application = _owned(api_user(), application_id)
    return certificate_pdf_response(application)


def certificate_pdf_response(application: Application) -> Response:
    """The stored PDF of the application's current certificate (404 before issuance).

    The read is audited in the calling view's transaction.
    """
    certificate = application.current_certificate
    if certificate is None:
        raise ApiError(404, "not_issued", N_("The certificate has not been issued yet."))
    if application.purged_at is not None:
        raise ApiError(
            410,
            "purged",
            N_(
                "The certificate's document was erased with the "
                "application's personal data at the end of its lifetime."
            ),
        )
    files = runtime().files
    settle_document(files, certificate.id)  # a no-op unless a crash interrupted the rename
    data = files.get(pdf_name(certificate.id))
    record_event(
        db.session,
        actor=f"user:{application.user_id}",
        action="certificate.pdf_read",
        subject_type="certificate",
        subject_id=certificate.id,
    )
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="certificate-{certificate.id}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
