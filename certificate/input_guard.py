"""Limits checked before a request's content reaches a parser or the database.

* JSON bodies may nest at most :data:`MAX_JSON_DEPTH` levels. The depth is
  counted on the raw bytes before parsing, so a body nested 50,000 deep is a
  400, never a parser's recursion error.
* No text field may hold a NUL character: PostgreSQL cannot store one in a
  text column, and no name, address or reference needs one. JSON strings,
  form fields and query parameters are all checked, and the 400 names the
  field.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, abort, request

from certificate.errors import ApiError

#: The deepest any request body of the API needs is 4 levels; this leaves room.
MAX_JSON_DEPTH = 32
NUL = "\x00"
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})

_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKET = re.compile(rb"[\[\]{}]")


def json_too_deep(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text ``raw`` opens more than ``limit`` nested arrays or objects.

    Strings are blanked first, so brackets inside them do not count. Linear in
    the length of ``raw``; nothing is parsed. A body with no more opening brackets
    than ``limit`` in all (every body the API takes) is answered by counting them.
    """
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth = 0
    for match in _JSON_BRACKET.finditer(_JSON_STRING.sub(b'""', raw)):
        if match.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def nul_field(value: Any, path: str = "") -> str | None:
    """The dotted path of the first string (or object key) in ``value`` holding a NUL."""
    if isinstance(value, str):
        return (path or "body") if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if NUL in str(key):
                return path or "body"
            found = nul_field(item, child)
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = nul_field(item, f"{path}.{index}" if path else str(index))
            if found:
                return found
    return None


def refuse_nul(field: str) -> ApiError:
    """The 400 for a NUL character in ``field``."""
    return ApiError(
        400,
        "invalid_request",
        f"The field {field} holds a NUL character.",
        {field: "must not contain a NUL character"},
    )


def init_app(app: Flask) -> None:
    """Refuse form fields and query parameters holding a NUL before any view runs."""

    @app.before_request
    def _no_nul_in_fields() -> None:
        sources = [request.args]
        if request.method == "POST" and request.mimetype in _FORM_TYPES:
            sources.append(request.form)  # JSON bodies are checked as they are parsed
        for source in sources:
            for name, value in source.items(multi=True):
                if NUL in name or NUL in value:
                    field = name.replace(NUL, "")
                    if request.path.startswith("/api/"):
                        raise refuse_nul(field)
                    abort(400, description=f"The field {field} holds a NUL character.")
