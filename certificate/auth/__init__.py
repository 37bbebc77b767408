"""Accounts, log-in pages, second factor for staff, bearer tokens; ``flask users``."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the log-in pages, the token API and ``flask users``."""
    from certificate.auth.api import bp as api
    from certificate.auth.cli import users
    from certificate.auth.routes import bp as pages
    from certificate.web import register_api, register_pages

    register_api(app, api)
    register_pages(app, pages)
    app.cli.add_command(users)
