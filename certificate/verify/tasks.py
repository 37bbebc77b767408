"""Verification's periodic work."""

from __future__ import annotations

import logging

from sqlalchemy.exc import OperationalError

from certificate.db import db
from certificate.runtime import runtime
from certificate.verify.service import chain_verifications

log = logging.getLogger(__name__)


def chain_pending_verifications() -> None:
    """Write this process's buffered history now (each batch sealed into the audit chain
    as it is written), then seal any verifications written without an event."""
    try:
        runtime().verifier.history.flush()
    except OperationalError:
        log.warning("sweeper: verification history not written yet, will retry")
    while chain_verifications(db.session):
        db.session.commit()
