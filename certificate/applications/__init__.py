"""Filing an application (API and form) and the applicant's own pages."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the applications API, the applicant's pages and their navigation link."""
    from certificate.applications.api import bp as api
    from certificate.applications.routes import bp as pages
    from certificate.i18n import N_
    from certificate.web import register_api, register_pages
    from certificate.web.navigation import NavEntry, add_nav_entry

    register_api(app, api)
    register_pages(app, pages)
    add_nav_entry(
        app,
        NavEntry("applications.dashboard", N_("My applications"), "applicant", 20),
    )
