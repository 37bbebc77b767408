"""Liveness for load balancers."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from certificate.db import db
from certificate.openapi import operation

bp = Blueprint("health", __name__)

#: Set in ``app.extensions`` once the process's start-up preparation is done (certificate/warmup.py).
READY_KEY = "ipc.warmup.ready"


@bp.get("/healthz")
@operation(
    "Liveness",
    responses={
        200: {
            "description": "The database answers",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
def healthz() -> ResponseReturnValue:
    """200 when the database answers, 503 otherwise; ``prepared`` says whether this process
    has finished its start-up preparation (fonts, keys, PDF machinery), after which its
    first certificate is as fast as any other."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return jsonify({"status": "unavailable"}), 503
    finally:
        db.session.rollback()
    return jsonify({"status": "ok", "prepared": bool(current_app.extensions.get(READY_KEY))})
