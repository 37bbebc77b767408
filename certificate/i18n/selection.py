"""The language of each request.

Pages: ``?lang=xx`` (then remembered in a cookie and, for a signed-in user,
as the account's language), else the cookie, else the account's language,
else the browser's ``Accept-Language``, else English. JSON answers follow
``Accept-Language`` alone: an API client states its language on every call.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, Request, Response, request
from flask_login import current_user
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from certificate.i18n.registry import DEFAULT, supported

#: The cookie that remembers a language chosen with ``?lang=``.
COOKIE = "ipc_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600


def is_api_request(req: Request) -> bool:
    """JSON endpoints: their errors follow Accept-Language only."""
    return req.path.startswith("/api/") or req.path.startswith("/.well-known/")


def from_accept_language(req: Request) -> str:
    """The served language the client prefers most (``es-MX`` asks for ``es``), else English."""
    return preferred(req.accept_languages)


def from_accept_language_header(value: str | None) -> str:
    """:func:`from_accept_language` for a raw ``Accept-Language`` value (no request object)."""
    return preferred(parse_accept_header(value, LanguageAccept)) if value else DEFAULT


def preferred(accepted: LanguageAccept) -> str:
    """The served language first in ``accepted`` (highest quality first), else English."""
    for value, _quality in accepted:
        code = supported(value) or supported(value.replace("_", "-").split("-", 1)[0])
        if code is not None:
            return code
    return DEFAULT


def _account_language() -> str | None:
    try:
        authenticated = bool(current_user.is_authenticated)
    except (AttributeError, RuntimeError):  # no login manager on this request
        return None
    return supported(getattr(current_user, "language", None)) if authenticated else None


def choose(req: Request) -> str:
    """The language of request ``req`` (see the module's docstring)."""
    if is_api_request(req):
        return from_accept_language(req)
    return (
        supported(req.args.get("lang"))
        or supported(req.cookies.get(COOKIE))
        or _account_language()
        or from_accept_language(req)
    )


def switch_url(code: str) -> str:
    """This page again in language ``code`` (the same path and other query arguments)."""
    args = [(key, value) for key, value in request.args.items(multi=True) if key != "lang"]
    return f"{request.path}?{urlencode([*args, ('lang', code)])}"


def remember_choice(app: Flask) -> None:
    """A ``?lang=`` choice is kept in a cookie (and on the account of a signed-in user)."""

    @app.before_request
    def _store_on_account() -> None:
        chosen = supported(request.args.get("lang"))
        if chosen is None or is_api_request(request) or request.method != "GET":
            return
        user = current_user
        if getattr(user, "is_authenticated", False) and getattr(user, "language", None) != chosen:
            from certificate.db import begin_writing, db

            begin_writing(db.session)  # a page read that stores the account's language
            user.language = chosen
            db.session.commit()

    @app.after_request
    def _cookie(response: Response) -> Response:
        if not is_api_request(request):
            response.vary.add("Accept-Language")
            response.vary.add("Cookie")
        chosen = supported(request.args.get("lang"))
        if chosen is not None and not is_api_request(request):
            response.set_cookie(
                COOKIE,
                chosen,
                max_age=COOKIE_MAX_AGE,
                secure=app.config.get("SESSION_COOKIE_SECURE", False),
                httponly=True,
                samesite="Lax",
            )
        elif is_api_request(request):
            response.vary.add("Accept-Language")
        return response
