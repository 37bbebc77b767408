"""Organisations (employers): members, API keys, requests to candidates, webhooks."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The organisations' API, pages and operator commands."""
    from certificate.i18n import N_
    from certificate.organisations.api import bp as api
    from certificate.organisations.cli import organisations
    from certificate.organisations.dashboard import bp as dashboard
    from certificate.organisations.routes import bp as pages
    from certificate.organisations.webhooks import init_webhooks
    from certificate.web import register_api, register_pages
    from certificate.web.navigation import NavEntry, add_nav_entry

    init_webhooks(app)
    register_pages(app, pages, dashboard)
    add_nav_entry(app, NavEntry("employer.index", N_("Requests"), "employer", 50))
    add_nav_entry(app, NavEntry("employer.batch_form", N_("Verify a list"), "employer", 51))
    add_nav_entry(app, NavEntry("employer.access", N_("API keys and webhooks"), "employer", 52))
    register_api(app, api)  # bearer tokens and API keys: no cookie to forge
    app.cli.add_command(organisations)
