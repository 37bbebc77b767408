"""Helpers shared by the JSON blueprints: reading bodies, answering with models."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import Response, jsonify, request
from pydantic import BaseModel, ValidationError

from certificate.errors import ApiError, invalid_request

M = TypeVar("M", bound=BaseModel)


def json_body() -> Any:
    """The request's JSON, or a 400/415 that says what is wrong with it."""
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "Send the body as application/json.")
    body = request.get_json(silent=True)
    if body is None:
        raise ApiError(400, "invalid_json", "The body is not valid JSON.")
    return body


def parse(model: type[M], data: Any) -> M:
    """Validate ``data`` against ``model``; 400 naming each bad field."""
    if not isinstance(data, dict):
        raise ApiError(
            400, "invalid_request", "The body must be a JSON object.", {"body": "must be an object"}
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_request(exc) from exc


def respond(model: BaseModel, status: int = 200) -> tuple[Response, int]:
    """Serialise a response model."""
    return jsonify(model.model_dump(mode="json")), status
