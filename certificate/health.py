"""Liveness for load balancers."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from certificate.db import db
from certificate.openapi import operation

bp = Blueprint("health", __name__)


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
    """200 when the database answers, 503 otherwise."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return jsonify({"status": "unavailable"}), 503
    finally:
        db.session.rollback()
    return jsonify({"status": "ok"})
