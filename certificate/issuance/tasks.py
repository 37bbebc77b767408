"""Issuance's periodic work."""

from __future__ import annotations

from flask import current_app

from certificate.db import db
from certificate.issuance.service import settle_pending_documents
from certificate.runtime import runtime


def settle_pending() -> None:
    """Finish or remove certificate PDFs left pending by a crash."""
    settle_pending_documents(
        db.session, runtime().files, float(current_app.config["ORPHAN_DOCUMENT_SECONDS"])
    )
    db.session.rollback()
