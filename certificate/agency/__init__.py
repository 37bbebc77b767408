"""National agencies: configuration, the officer portal, the agency API; ``flask agencies``."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the officer portal, the agency API, ``flask agencies``, the portal's link,
    and the database agencies as a source of the adapter registry."""
    from certificate.agency.adapters import add_agency_source
    from certificate.agency.api import bp as api
    from certificate.agency.cli import agencies
    from certificate.agency.routes import bp as pages
    from certificate.i18n import N_
    from certificate.web import register_api, register_pages
    from certificate.web.navigation import NavEntry, add_nav_entry

    register_api(app, api)
    register_pages(app, pages)
    app.cli.add_command(agencies)
    add_agency_source(app)
    add_nav_entry(app, NavEntry("agency.index", N_("Open queries"), "agency-officer", 30))
