"""``/api/v1/accounts`` and ``/api/v1/tokens``."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app
from flask.typing import ResponseReturnValue

from certificate.api_common import json_body, parse, respond
from certificate.auth.schemas import AccountIn, AccountOut, TokenIn, TokenOut
from certificate.auth.service import (
    AccountError,
    EmailTaken,
    authenticate,
    create_user,
    issue_token,
    needs_second_factor,
    normalise_email,
    verify_second_factor,
)
from certificate.db import db, new_id, utcnow
from certificate.errors import ApiError
from certificate.i18n import N_
from certificate.openapi import operation
from certificate.rate_limits import per_client
from certificate.web.transaction import discard, transactional

bp = Blueprint("auth_api", __name__, url_prefix="/api/v1")


@bp.post("/accounts")
@operation(
    "Sign up as an applicant",
    body=AccountIn,
    responses={201: AccountOut},
    errors=(400, 409, 415, 429),
)
@per_client("LOGIN_RATE_LIMIT", scope="signup")
@transactional(
    {
        AccountError: lambda exc: ApiError(
            400, "invalid_request", f"{exc.field}: {exc}", {exc.field: str(exc)}
        )
    }
)
def create_account() -> ResponseReturnValue:
    """Sign up as an applicant."""
    data = parse(AccountIn, json_body())
    try:
        user = create_user(db.session, email=data.email, password=data.password, name=data.name)
    except EmailTaken:
        # The same answer as for a new address, so sign-up tells no one which addresses
        # have accounts; nothing is stored, and the owner's account is untouched.
        discard(respond(AccountOut(id=new_id(), email=normalise_email(data.email)), 201))
    return respond(AccountOut(id=user.id, email=user.email), 201)


@bp.post("/tokens")
@operation(
    "Get a bearer token", body=TokenIn, responses={200: TokenOut}, errors=(400, 401, 415, 429)
)
@per_client("LOGIN_RATE_LIMIT", scope="api-token")
@transactional(commit_on_error=True)  # failures are counted, even in a refusal
def create_token() -> ResponseReturnValue:
    """Exchange e-mail and password (and, for officers and admins, the code) for a token.

    Every refusal is the same 401, whichever factor was wrong: the answer never
    tells that a password was right. A staff account's wrong or missing code
    counts towards its lock-out.
    """
    data = parse(TokenIn, json_body())
    now = utcnow()
    user = authenticate(db.session, data.email, data.password, now)
    if user is not None and needs_second_factor(user):
        passed = verify_second_factor(db.session, user, data.code or "", now)
        user = user if passed else None
    if user is None:
        raise ApiError(
            401,
            "invalid_credentials",
            N_(
                "The e-mail, password or code is not correct. Officers and admins send the "
                "current code of their authenticator app as well."
            ),
            {"code": "officers and admins: the current code of the authenticator app"},
        )
    ttl = int(current_app.config["TOKEN_TTL_SECONDS"])
    token = issue_token(db.session, user, ttl=timedelta(seconds=ttl), now=now)
    return respond(TokenOut(access_token=token, token_type="Bearer", expires_in=ttl))
