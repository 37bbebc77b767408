"""Verification by token, number or PDF: the API, the ``/v`` page, the audit of lookups."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the verification API and page, its link, and the chaining of
    verifications into the audit log."""
    from certificate.audit import register_content_check
    from certificate.i18n import N_
    from certificate.periodic import add_periodic_task
    from certificate.verify import lane
    from certificate.verify.api import bp as api
    from certificate.verify.history import VERIFICATIONS_ACTION
    from certificate.verify.routes import bp as pages
    from certificate.verify.service import verifications_problem
    from certificate.verify.tasks import chain_pending_verifications
    from certificate.web import register_api, register_pages
    from certificate.web.navigation import NavEntry, add_nav_entry

    register_api(app, api)
    lane.install(app)
    register_pages(app, pages)
    add_nav_entry(
        app,
        NavEntry("verify.page", N_("Verify a certificate"), None, 10),
    )
    add_periodic_task(app, "verify.chain_verifications", chain_pending_verifications)
    register_content_check(VERIFICATIONS_ACTION, verifications_problem)
