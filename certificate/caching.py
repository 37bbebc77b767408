"""What browsers and shared caches may keep: nothing, unless a view says its answer is public.

Pages and JSON answers of this service carry names, dates of birth, passport
numbers, outcomes and records. A cached copy outlives the session that was
allowed to see it (a shared computer's browser history, a proxy, the back
button after log-out), so every answer is ``Cache-Control: no-store`` by
default, errors included. A view whose answer holds no personal data (the key
set, the OpenAPI document, static files) opts out with :func:`shareable` and
keeps its own caching headers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, Response, request

F = TypeVar("F", bound=Callable[..., object])

_SHAREABLE = "_ipc_shareable"
NO_STORE = "no-store"


def shareable(view: F) -> F:
    """Mark ``view`` as answering only public data, which caches may keep.

    Put it below the route decorator, so the registered function carries the mark.
    """
    setattr(view, _SHAREABLE, True)
    return view


def is_shareable(app: Flask, endpoint: str | None) -> bool:
    """Whether the view behind ``endpoint`` was marked :func:`shareable` (static files are)."""
    if endpoint is None:
        return False
    if endpoint == "static" or endpoint.endswith(".static"):
        return True
    return bool(getattr(app.view_functions.get(endpoint), _SHAREABLE, False))


def init_app(app: Flask) -> None:
    """Send ``Cache-Control: no-store`` on every answer of a view not marked shareable."""

    @app.after_request
    def _no_store(response: Response) -> Response:
        if not is_shareable(app, request.endpoint):
            response.headers["Cache-Control"] = NO_STORE
        return response
