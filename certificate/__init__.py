"""The International Police Certificate service."""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable, Iterable
from importlib import import_module
from typing import Any

from flask import Flask

from certificate import rate_limits
from certificate.config import load_config
from certificate.db import configure_sqlite, db, private_sqlite_file
from certificate.extensions import csrf, login_manager, migrate
from certificate.observability import configure_logging
from certificate.resources import migrations_folder, templates_folder
from certificate.web.transaction import reads_without_the_write_lock

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
    reads_without_the_write_lock(app)  # before any other hook can begin a transaction
    migrate.init_app(app, db, directory=migrations_folder(), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    rate_limits.init_app(app)

    from certificate import models  # noqa: F401 - every model registered on the metadata
    from certificate.runtime import build_runtime

    build_runtime(app)
    _close_with_app(app)
    try:
        for feature in FEATURES:
            import_module(feature).init_app(app)
    except BaseException:
        close_app(app)  # a feature refused to start: nothing is left open
        raise
    _start_jobs_on_first_request(app)
    rate_limits.trust_proxies(app)
    return app


_CLOSE = "ipc_close"


def close_app(app: Flask) -> None:
    """Close every database connection the app holds; it can be called more than once.

    That is the app's own engine (disposing it also writes the buffered
    verification history, see :mod:`certificate.runtime`), the verification
    reader's pool and the rate-limit store's engine. Tests call it when they
    drop an app, gunicorn when a worker stops; an app dropped without it is
    closed when it is garbage-collected or at the process's exit, so no
    connection is ever left for the collector to find.
    """
    with app.app_context():
        db.session.remove()
    app.extensions[_CLOSE]()


def _close_with_app(app: Flask) -> None:
    """Register the closing of the app's engines, run by :func:`close_app` or at collection."""
    with app.app_context():
        closers: list[Callable[[], None]] = [engine.dispose for engine in db.engines.values()]
    closers.append(app.extensions["ipc"].verifier.reader.dispose)
    store = rate_limits.store_of(app)
    if store is not None:
        closers.append(store.dispose)
    # the finalizer holds what it closes, never the app
    app.extensions[_CLOSE] = weakref.finalize(app, _run_all, closers)


def _run_all(closers: Iterable[Callable[[], None]]) -> None:
    for close in closers:
        close()


def _start_jobs_on_first_request(app: Flask) -> None:
    """The embedded engine starts with the first request a serving process receives.

    Operator commands import the same app and must not start workers.
    """
    if not app.config["JOBS_ENABLED"]:
        return
    from certificate.runtime import start_jobs_once

    @app.before_request
    def _ensure_jobs() -> None:
        start_jobs_once(app)
