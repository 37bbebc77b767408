"""Organisations (employers): members, API keys, requests to candidates, webhooks."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The organisations' API, pages and operator commands."""
    from certificate.organisations.api import bp as api
    from certificate.organisations.cli import organisations
    from certificate.organisations.routes import bp as pages
    from certificate.organisations.webhooks import init_webhooks
    from certificate.web import register_api, register_pages

    init_webhooks(app)
    register_pages(app, pages)
    register_api(app, api)  # bearer tokens and API keys: no cookie to forge
    app.cli.add_command(organisations)
