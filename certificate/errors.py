"""One shape for every JSON error, and HTML error pages for the rest.

``{"error": {"code": "snake_case", "message": "...", "fields": {"a.b": "..."}}}``
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from certificate.web.schemas import FieldError


class ApiError(Exception):
    """An error answered as JSON with a 4xx status."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}
        self.headers = headers or {}


def error_body(code: str, message: str, fields: dict[str, str] | None = None) -> dict[str, Any]:
    """The contract's error object."""
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def validation_fields(exc: ValidationError) -> dict[str, str]:
    """pydantic errors as ``{"applicant.date_of_birth": "must be in the past"}``."""
    fields: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        loc = [str(part) for part in error["loc"]]
        message = error["msg"]
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, FieldError):
            loc.append(cause.field)
            message = str(cause)
        elif error["type"] == "value_error":
            message = message.removeprefix("Value error, ")
        elif error["type"] == "extra_forbidden":
            message = "is not a field of this request"
        elif error["type"] == "missing":
            message = "is required"
        path = ".".join(loc) or "body"
        fields.setdefault(path, message)
    return fields


def invalid_request(exc: ValidationError) -> ApiError:
    """A 400 naming every bad field."""
    fields = validation_fields(exc)
    names = ", ".join(sorted(fields))
    message = gettext("Some fields are not valid: %(names)s.", names=names)
    return ApiError(400, "invalid_request", message, fields)


_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    410: "gone",
    429: "rate_limited",
}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/.well-known/")


def register_error_handlers(app: Flask) -> None:
    """JSON errors under /api, HTML pages elsewhere; never a stack trace to the client."""

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> tuple[Response, int, dict[str, str]]:
        # a message marked for the catalogue is answered in the client's language
        message = gettext(str(exc.message))
        return jsonify(error_body(exc.code, message, exc.fields)), exc.status, exc.headers

    @app.errorhandler(ValidationError)
    def _validation(exc: ValidationError) -> tuple[Response, int]:
        err = invalid_request(exc)
        return jsonify(error_body(err.code, err.message, err.fields)), err.status

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        status = exc.code or 500
        if not _wants_json():
            if status >= 500:
                return exc
            page = render_template("error.html", status=status, message=exc.description)
            return page, status, _retry_after(exc)
        code = _CODES.get(status, "error" if status >= 500 else "bad_request")
        response = jsonify(error_body(code, gettext(exc.description or exc.name)))
        response.status_code = status
        response.headers.update(_retry_after(exc))
        return response


def _retry_after(exc: HTTPException) -> dict[str, str]:
    """A 429's ``Retry-After``: werkzeug's ``retry_after``, or Flask-Limiter's response's."""
    if exc.code != 429:
        return {}
    if exc.response is not None and "Retry-After" in exc.response.headers:
        return {"Retry-After": exc.response.headers["Retry-After"]}
    return {name: value for name, value in exc.get_headers() if name == "Retry-After"}
