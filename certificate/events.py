"""Domain events, announced inside the transaction of what caused them.

A service announces what happened (``certificate.revoked``...); features
subscribe in their ``init_app`` (notifications write e-mails, organisations
write webhooks) and add rows to the same session, so every message exists
exactly when its event was committed. Subscribers must not commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, has_app_context

from certificate.db import DbSession

REGISTRY_KEY = "ipc.events"

Subscriber = Callable[..., None]


def subscribe(app: Flask, event: str, subscriber: Subscriber) -> None:
    """Call ``subscriber(session, **data)`` whenever ``event`` is announced in ``app``."""
    registry: dict[str, list[Subscriber]] = app.extensions.setdefault(REGISTRY_KEY, {})
    registry.setdefault(event, []).append(subscriber)


def announce(session: DbSession, event: str, **data: Any) -> None:
    """Tell every subscriber of ``event``; outside an app (a bare script) nobody listens."""
    if not has_app_context():
        return
    registry: dict[str, list[Subscriber]] = current_app.extensions.get(REGISTRY_KEY, {})
    for subscriber in registry.get(event, ()):
        subscriber(session, **data)
