"""Bearer-token authentication for the JSON API (no cookies, so no CSRF)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import g, request

from certificate.auth.models import Role, User
from certificate.auth.service import user_for_token
from certificate.db import db, utcnow
from certificate.errors import ApiError
from certificate.i18n import N_

F = TypeVar("F", bound=Callable[..., Any])


def _unauthorized() -> ApiError:
    return ApiError(
        401,
        "unauthorized",
        N_("A valid bearer token is required."),
        headers={"WWW-Authenticate": 'Bearer realm="ipc"'},
    )


def bearer_user() -> User:
    """The user of this request's bearer token; 401 without a valid one."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized()
    user = user_for_token(db.session, token.strip(), utcnow())
    if user is None:
        raise _unauthorized()
    return user


def require_bearer(*roles: Role) -> Callable[[F], F]:
    """Decorator: authenticate by bearer token and, when given, require one of ``roles``."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = bearer_user()
            if roles and user.role not in {r.value for r in roles}:
                raise ApiError(403, "forbidden", N_("This account may not use this endpoint."))
            g.api_user = user
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorator


def api_user() -> User:
    """The user authenticated by :func:`require_bearer`."""
    user: User = g.api_user
    return user
