"""The baseline for bench/verify.py: a bare Flask route, as little work as Flask allows.

It parses the same JSON body and answers a small JSON document of the
verification response's shape, with no database, no signature and no rate
limiter: the ceiling any Flask route can reach under the same gunicorn
settings on the same machine.
"""

from __future__ import annotations

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue

app = Flask(__name__)


@app.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Up."""
    return jsonify(status="ok")


@app.post("/api/v1/verify")
def verify() -> ResponseReturnValue:
    """Read the body, answer a fixed verification-shaped document."""
    body = request.get_json(silent=True) or {}
    return jsonify(
        valid=False,
        status="unknown",
        reason="No certificate matches this number and date of birth.",
        certificate=None,
        fields=len(body),
    )
