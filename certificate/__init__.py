"""The International Police Certificate service."""

from __future__ import annotations

import os
from importlib import import_module
from typing import Any

from flask import Flask

from certificate import rate_limits
from certificate.config import load_config
from certificate.db import configure_sqlite, db, private_sqlite_file
from certificate.extensions import csrf, login_manager, migrate
from certificate.observability import configure_logging
from certificate.resources import migrations_folder, templates_folder

# Every feature is a package (or module) with ``init_app(app)`` that registers
# its blueprints, CLI commands, periodic tasks, navigation links and API
# operations. Adding a feature is adding its name here; order is the order of
# registration (languages and the shared web layer first).
FEATURES: tuple[str, ...] = (
    "certificate.i18n",
    "certificate.web",
    "certificate.identity",
    "certificate.notifications",
    "certificate.organisations",
    "certificate.auth",
    "certificate.applications",
    "certificate.checks",
    "certificate.agency",
    "certificate.adapters",  # after agency: it checks the countries every source serves
    "certificate.issuance",
    "certificate.signing",
    "certificate.verify",
    "certificate.admin",
    "certificate.admin_certificates",
    "certificate.upkeep",
    "certificate.demo",
)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: configuration, extensions, the runtime, then every feature."""
    instance_path = os.environ.get("IPC_INSTANCE_PATH") or (test_config or {}).get("INSTANCE_PATH")
    app = Flask(
        __name__,
        instance_path=os.path.abspath(instance_path) if instance_path else None,
        instance_relative_config=True,
        template_folder=templates_folder(),
    )
    load_config(app, test_config)
    configure_logging(app)

    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            private_sqlite_file(db.engine)
            configure_sqlite(db.engine)
    migrate.init_app(app, db, directory=migrations_folder(), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    rate_limits.init_app(app)

    from certificate import models  # noqa: F401 - every model registered on the metadata
    from certificate.runtime import build_runtime

    build_runtime(app)
    for feature in FEATURES:
        import_module(feature).init_app(app)
    _start_jobs_on_first_request(app)
    return app


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
