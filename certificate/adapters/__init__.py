"""The operators' view of the adapter registry: ``flask adapters``, required countries.

Registered after ``certificate.agency`` (whose database agencies are a source
of the registry), so that start-up sees every source.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register ``flask adapters`` and refuse to start while a required country is unserved."""
    from certificate.adapters.cli import adapters
    from certificate.adapters.coverage import require_countries

    app.cli.add_command(adapters)
    require_countries(app)
