"""What every view shares: blueprint registration, navigation, error answers, headers,
the app's JSON (:mod:`.json_provider`), request-schema bases (:mod:`.schemas`),
problems beside fields (:mod:`.problems`) and dates as pages show them
(:mod:`.dates`, also template globals).

Features register their blueprints through :func:`register_pages` and
:func:`register_api` in their ``init_app``.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response

from certificate.extensions import csrf


def register_pages(app: Flask, *blueprints: Blueprint) -> None:
    """Register HTML blueprints (CSRF-protected forms)."""
    for blueprint in blueprints:
        app.register_blueprint(blueprint)


def register_api(app: Flask, *blueprints: Blueprint) -> None:
    """Register JSON blueprints: bearer tokens or no credentials, so no cookie to forge."""
    for blueprint in blueprints:
        csrf.exempt(blueprint)
        app.register_blueprint(blueprint)


def init_app(app: Flask) -> None:
    """The shared web layer: the app's JSON, error answers, security headers, input guards,
    navigation, health and the OpenAPI document."""
    from certificate import caching, input_guard
    from certificate.errors import register_error_handlers
    from certificate.health import bp as health
    from certificate.openapi import bp as openapi
    from certificate.web import navigation
    from certificate.web.dates import day, when
    from certificate.web.json_provider import CompactJSONProvider

    app.json = CompactJSONProvider(app)
    register_error_handlers(app)
    _security_headers(app)
    caching.init_app(app)
    input_guard.init_app(app)
    navigation.init_app(app)
    app.jinja_env.globals.update(when=when, day=day)
    register_pages(app, health)
    register_api(app, openapi)


def security_headers(app: Flask) -> list[tuple[str, str]]:
    """The headers every answer carries (a view may set its own value of any of them)."""
    headers = [
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "no-referrer"),
        (
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    ]
    if app.config["SESSION_COOKIE_SECURE"]:
        headers.append(("Strict-Transport-Security", "max-age=31536000"))
    return headers


def _security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in security_headers(app):
            response.headers.setdefault(name, value)
        return response
