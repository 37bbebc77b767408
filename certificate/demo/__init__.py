"""Demo data for a laptop: ``flask demo seed``."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register ``flask demo``."""
    from certificate.demo.cli import demo

    app.cli.add_command(demo)
