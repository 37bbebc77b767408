"""``/api/v1/accounts`` and ``/api/v1/tokens``."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app
from flask.typing import ResponseReturnValue

from certificate.api_common import json_body, parse, respond
from certificate.auth.schemas import AccountIn, AccountOut, TokenIn, TokenOut
from certificate.auth.service import (
    AccountError,
    authenticate,
    create_user,
    issue_token,
    needs_second_factor,
    verify_second_factor,
)
from certificate.db import db, utcnow
from certificate.errors import ApiError
from certificate.extensions import limiter
from certificate.i18n import N_

bp = Blueprint("auth_api", __name__, url_prefix="/api/v1")


def _login_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


@bp.post("/accounts")
@limiter.limit(_login_limit)
def create_account() -> ResponseReturnValue:
    """Sign up as an applicant."""
    data = parse(AccountIn, json_body())
    try:
        user = create_user(db.session, email=data.email, password=data.password, name=data.name)
    except AccountError as exc:
        status = 409 if exc.field == "email" else 400
        code = "email_taken" if status == 409 else "invalid_request"
        raise ApiError(status, code, f"{exc.field}: {exc}", {exc.field: str(exc)}) from exc
    db.session.commit()
    return respond(AccountOut(id=user.id, email=user.email), 201)


@bp.post("/tokens")
@limiter.limit(_login_limit)
def create_token() -> ResponseReturnValue:
    """Exchange e-mail and password for a bearer token."""
    data = parse(TokenIn, json_body())
    now = utcnow()
    user = authenticate(db.session, data.email, data.password, now)
    second_factor_failed = (
        user is not None
        and needs_second_factor(user)
        and not (data.code and verify_second_factor(db.session, user, data.code, now))
    )
    if second_factor_failed:
        db.session.commit()
        raise ApiError(
            401,
            "second_factor_required",
            N_("This account also needs the current code of its authenticator app."),
            {"code": "is required and must be the current code"},
        )
    db.session.commit()  # failures are counted
    if user is None:
        raise ApiError(401, "invalid_credentials", N_("The e-mail or password is not correct."))
    ttl = int(current_app.config["TOKEN_TTL_SECONDS"])
    token = issue_token(db.session, user, ttl=timedelta(seconds=ttl), now=now)
    db.session.commit()
    return respond(TokenOut(access_token=token, token_type="Bearer", expires_in=ttl))
