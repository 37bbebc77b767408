"""Signing keys: the key store, rotation, the published key set; ``flask keys``."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register ``flask keys``."""
    from certificate.signing.cli import keys

    app.cli.add_command(keys)
