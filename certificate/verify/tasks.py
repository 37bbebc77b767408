"""Verification's periodic work."""

from __future__ import annotations

import logging

from sqlalchemy.exc import OperationalError

from certificate.db import db
from certificate.runtime import runtime
from certificate.verify.service import chain_verifications

log = logging.getLogger(__name__)


def chain_pending_verifications() -> None:
    """Append the verifications answered since the last sweep to the audit chain,
    this process's buffered history first so that it is chained now."""
    try:
        runtime().verifier.history.flush()
    except OperationalError:
        log.warning("sweeper: verification history not written yet, will retry")
    while chain_verifications(db.session):
        db.session.commit()
