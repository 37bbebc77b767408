"""Helpers shared by the JSON blueprints: reading bodies, answering with models."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import Response, jsonify, request
from pydantic import BaseModel, ValidationError

from certificate import json_text
from certificate.errors import ApiError, invalid_request
from certificate.i18n import N_
from certificate.input_guard import MAX_JSON_DEPTH, json_too_deep, nul_field, refuse_nul

M = TypeVar("M", bound=BaseModel)


def json_body() -> Any:
    """The request's JSON, or a 400/415 that says what is wrong with it."""
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", N_("Send the body as application/json."))
    return json_from_bytes(request.get_data(cache=True))


def json_from_bytes(raw: bytes) -> Any:
    """The JSON document ``raw``, or a 400 that says what is wrong with it: nested too
    deep (counted before parsing), not JSON (or ``null``), or a NUL in some string."""
    if json_too_deep(raw):
        raise ApiError(
            400,
            "invalid_json",
            f"The body nests deeper than {MAX_JSON_DEPTH} levels.",
            {"body": f"nests deeper than {MAX_JSON_DEPTH} levels"},
        )
    try:
        body = json_text.loads(raw)
    except ValueError:  # JSON and UTF-8 errors alike
        body = None
    if body is None:
        raise ApiError(400, "invalid_json", N_("The body is not valid JSON."))
    field = nul_field(body)
    if field is not None:
        raise refuse_nul(field)
    return body


def parse(model: type[M], data: Any) -> M:
    """Validate ``data`` against ``model``; 400 naming each bad field."""
    if not isinstance(data, dict):
        raise ApiError(
            400,
            "invalid_request",
            N_("The body must be a JSON object."),
            {"body": "must be an object"},
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_request(exc) from exc


def respond(model: BaseModel, status: int = 200) -> tuple[Response, int]:
    """Serialise a response model."""
    return jsonify(model.model_dump(mode="json")), status
