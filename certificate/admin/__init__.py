"""Admin pages about checks: failed checks, retried or answered by hand; approvals of admins' actions."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the failed-checks and approvals pages and their links."""
    from certificate.admin.approval_routes import bp as approvals
    from certificate.admin.routes import bp as checks
    from certificate.i18n import N_
    from certificate.web import register_pages
    from certificate.web.navigation import NavEntry, add_nav_entry

    register_pages(app, checks, approvals)
    add_nav_entry(app, NavEntry("admin_checks.index", N_("Failed checks"), "admin", 40))
    add_nav_entry(app, NavEntry("admin_approvals.index", N_("Approvals"), "admin", 42))
