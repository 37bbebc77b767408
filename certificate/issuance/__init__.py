"""Issuing certificates: claims, JWS, PDF and QR, revocation; ``flask certificates``."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register ``flask certificates``, the sweeper's settling of pending PDFs and the
    announcement of expiries."""
    from certificate.issuance.cli import certificates
    from certificate.issuance.tasks import announce_expired, settle_pending
    from certificate.periodic import add_periodic_task

    app.cli.add_command(certificates)
    add_periodic_task(app, "issuance.settle_pending_documents", settle_pending)
    add_periodic_task(app, "issuance.announce_expiries", announce_expired)
