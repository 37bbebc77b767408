"""The agency API: an agency's system fetches its open queries and answers them.

Every call authenticates with a JWT client assertion (see
:mod:`certificate.agency.assertions`); any failure is a 401 that changes nothing.
"""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue

from certificate.agency import service
from certificate.agency.assertions import AssertionRejected, authenticate_agency
from certificate.agency.models import Agency
from certificate.agency.schemas import AgencyAnswerOut, AgencyQueryList
from certificate.api_common import json_body, parse
from certificate.audit import record_event
from certificate.checks.service import ApplicationWithdrawn, ConflictingAnswer
from certificate.db import db, utcnow
from certificate.errors import ApiError
from certificate.i18n import N_
from certificate.openapi import AGENCY_ASSERTION, operation
from certificate.runtime import runtime
from certificate.web.transaction import after_commit, transactional
from country_adapters.documents import AnswerIn

log = logging.getLogger(__name__)
bp = Blueprint("agency_api", __name__, url_prefix="/api/v1/agency")


@bp.before_request
@transactional()
def _authenticate() -> None:
    """Spend the assertion's jti in its own transaction, before the view runs.

    Whatever the request goes on to be (a 400, a 415, a 409, an error that
    rolls back), the same assertion is never accepted again.
    """
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    failure = ApiError(
        401,
        "unauthorized",
        N_("A valid agency assertion is required."),
        headers={"WWW-Authenticate": 'Bearer realm="ipc-agency"'},
    )
    if scheme.lower() != "bearer" or not token.strip():
        raise failure
    try:
        agency = authenticate_agency(
            db.session, token.strip(), audience=current_app.config["BASE_URL"], now=utcnow()
        )
    except AssertionRejected as exc:
        log.info("agency assertion refused: %s", exc)
        raise failure from exc
    g.agency = agency


def _agency() -> Agency:
    agency: Agency = g.agency
    return agency


@bp.get("/queries")
@operation(
    "The agency's open queries (its own country only)",
    responses={200: AgencyQueryList},
    errors=(400, 401),
    security=AGENCY_ASSERTION,
    parameters=[
        {
            "name": "status",
            "in": "query",
            "required": False,
            "schema": {"type": "string", "enum": ["open"]},
        }
    ],
)
@transactional()
def list_queries() -> ResponseReturnValue:
    """The agency's open queries: sent to it and not yet answered."""
    status = request.args.get("status", "open")
    if status != "open":
        raise ApiError(
            400, "invalid_request", N_("Only status=open is supported."), {"status": "must be open"}
        )
    agency = _agency()
    checks = service.open_queries(db.session, agency.country)
    for check in checks:
        record_event(
            db.session,
            actor=f"agency:{agency.id}",
            action="query.fetched",
            subject_type="check",
            subject_id=check.id,
        )
    return jsonify({"queries": [service.query_view(check) for check in checks]})


def _withdrawn(_: Exception) -> ApiError:
    return ApiError(
        409,
        "query_closed",
        N_("The applicant withdrew the application: this query is closed and takes no answer."),
    )


@bp.post("/queries/<check_id>/answer")
@operation(
    "Answer a query; the same answer again has no second effect",
    body=AnswerIn,
    responses={200: AgencyAnswerOut},
    errors=(400, 401, 404, 409, 415),
    security=AGENCY_ASSERTION,
)
@transactional(
    {
        service.QueryNotFound: lambda _: ApiError(
            404, "not_found", N_("No such query for this agency.")
        ),
        service.QueryWithdrawn: _withdrawn,
        ApplicationWithdrawn: _withdrawn,
    }
)
def answer_query(check_id: str) -> ResponseReturnValue:
    """Answer one query; the same answer again is accepted once, a different one is a 409."""
    agency = _agency()
    data = parse(AnswerIn, json_body())
    check = service.query_for_country(db.session, agency.country, check_id)
    try:
        changed = service.answer_query(
            db.session,
            check,
            data.to_answer(),
            now=utcnow(),
            actor=f"agency:{agency.id}",
            channel="api",
        )
    except (ConflictingAnswer, service.QueryClosed) as exc:  # nothing stored: it names the status
        raise ApiError(
            409,
            "conflict",
            f"This query is already final ({check.status}); a different answer cannot replace it.",
        ) from exc
    if changed:
        application_id = check.application_id
        after_commit(lambda: runtime().jobs.submit_issuance(application_id))
    return jsonify({"id": check.id, "status": check.status, "outcome": check.outcome})
