"""Admin pages about issued certificates: find one by its number, ask for its revocation with a reason."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the certificates pages and their link."""
    from certificate.admin_certificates.routes import bp as pages
    from certificate.i18n import N_
    from certificate.web import register_pages
    from certificate.web.navigation import NavEntry, add_nav_entry

    register_pages(app, pages)
    add_nav_entry(app, NavEntry("admin_certificates.index", N_("Certificates"), "admin", 41))
