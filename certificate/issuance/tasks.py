"""Issuance's periodic work."""

from __future__ import annotations

from flask import current_app

from certificate.db import db, utcnow
from certificate.issuance.expiry import announce_expiries
from certificate.issuance.service import settle_pending_documents
from certificate.runtime import runtime


def settle_pending() -> None:
    """Finish or remove certificate PDFs left pending by a crash."""
    settle_pending_documents(
        db.session, runtime().files, float(current_app.config["ORPHAN_DOCUMENT_SECONDS"])
    )
    db.session.rollback()


def announce_expired() -> None:
    """Announce ``certificate.expired`` for every certificate whose time ran out since last time."""
    announce_expiries(db.session, utcnow())
    db.session.commit()
