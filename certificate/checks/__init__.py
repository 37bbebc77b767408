"""A check's life: claim, ask the country's adapter, store the answer, deadlines.

The job engine runs checks; this feature serves the metrics that count them.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register ``/metrics`` (checks by status and country are counted when scraped)."""
    from certificate.observability import bp as metrics
    from certificate.web import register_pages

    register_pages(app, metrics)
