"""The site's main navigation, assembled from the entries features add.

A feature adds its links in ``init_app`` with :func:`add_nav_entry`;
``base.html`` shows, in ``order``, the entries whose role matches the
signed-in user (``role=None``: everyone).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask_login import current_user

NAV_KEY = "ipc.navigation"


@dataclass(frozen=True)
class NavEntry:
    """One link of the main navigation.

    ``label`` is the English text, translated when the page is shown: mark it
    with ``N_`` from :mod:`certificate.i18n` so that the extractor finds it.
    """

    endpoint: str
    label: str
    role: str | None = None
    order: int = 100


def add_nav_entry(app: Flask, entry: NavEntry) -> None:
    """Add ``entry`` to the app's main navigation."""
    entries: list[NavEntry] = app.extensions.setdefault(NAV_KEY, [])
    entries.append(entry)
    entries.sort(key=lambda e: e.order)


def init_app(app: Flask) -> None:
    """Offer ``nav_entries`` (the current user's links) to every template."""
    app.extensions.setdefault(NAV_KEY, [])

    @app.context_processor
    def _navigation() -> dict[str, Any]:
        role = current_user.role if current_user.is_authenticated else None
        visible = [
            e
            for e in app.extensions[NAV_KEY]
            if e.role is None or (role is not None and e.role == role)
        ]
        return {"nav_entries": visible}
