"""The International Police Certificate service."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, Response

from certificate import caching, input_guard, rate_limits
from certificate.config import load_config
from certificate.db import configure_sqlite, db
from certificate.errors import register_error_handlers
from certificate.extensions import csrf, limiter, login_manager, migrate
from certificate.observability import configure_logging


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: configuration, extensions, adapters, blueprints, commands."""
    instance_path = os.environ.get("IPC_INSTANCE_PATH") or (test_config or {}).get("INSTANCE_PATH")
    app = Flask(
        __name__,
        instance_path=os.path.abspath(instance_path) if instance_path else None,
        instance_relative_config=True,
        template_folder=os.path.join(os.path.dirname(os.path.dirname(__file__)), "templates"),
    )
    load_config(app, test_config)
    configure_logging(app)

    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)
    migrations = os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations")
    migrate.init_app(app, db, directory=migrations, render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    rate_limits.configure(app)
    limiter.init_app(app)
    from certificate import i18n

    i18n.init_app(app)

    from certificate import models  # noqa: F401 - every model registered on the metadata
    from certificate.runtime import build_runtime

    build_runtime(app)
    from certificate import identity, notifications, organisations

    identity.init_app(app)
    notifications.init_app(app)
    organisations.init_app(app)
    _register_blueprints(app)
    register_error_handlers(app)
    _security_headers(app)
    caching.init_app(app)
    input_guard.init_app(app)
    _start_jobs_on_first_request(app)

    from certificate.cli import register_commands

    register_commands(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from certificate.admin.approval_routes import bp as admin_approvals_pages
    from certificate.admin.routes import bp as admin_checks_pages
    from certificate.admin_certificates.routes import bp as admin_certificates_pages
    from certificate.agency.api import bp as agency_api
    from certificate.agency.routes import bp as portal_pages
    from certificate.applications.api import bp as applications_api
    from certificate.applications.routes import bp as applications_pages
    from certificate.auth.api import bp as auth_api
    from certificate.auth.routes import bp as auth_pages
    from certificate.health import bp as health
    from certificate.observability import bp as observability
    from certificate.openapi import bp as openapi
    from certificate.verify.api import bp as verify_api
    from certificate.verify.routes import bp as verify_pages

    for blueprint in (auth_api, applications_api, agency_api, verify_api, openapi):
        csrf.exempt(blueprint)  # bearer tokens or no credentials: no cookie to forge
        app.register_blueprint(blueprint)
    for blueprint in (
        health,
        observability,
        auth_pages,
        applications_pages,
        verify_pages,
        portal_pages,
        admin_checks_pages,
        admin_certificates_pages,
        admin_approvals_pages,
    ):
        app.register_blueprint(blueprint)


def _security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        )
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response


def _start_jobs_on_first_request(app: Flask) -> None:
    """The embedded engine starts with the first request a serving process receives.

    Operator commands import the same app and must not start workers.
    """
    if not app.config["JOBS_ENABLED"]:
        return

    @app.before_request
    def _ensure_jobs() -> None:
        jobs = app.extensions["ipc"].jobs
        if not jobs.running:
            jobs.start()
