"""The purge, run by ``flask data purge`` and by the sweeper."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from certificate.db import db, utcnow
from certificate.retention import purge_due
from certificate.runtime import runtime


def purge() -> list[str]:
    """Purge the personal data that has outlived its purpose (see certificate/retention.py)."""
    config = current_app.config
    purged = purge_due(
        db.session,
        runtime().files,
        now=utcnow(),
        after_expiry=timedelta(days=int(config["RETENTION_DAYS_AFTER_EXPIRY"])),
        after_withdrawal=timedelta(days=int(config["RETENTION_DAYS_AFTER_WITHDRAWAL"])),
    )
    db.session.commit()
    return purged
