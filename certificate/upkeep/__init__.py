"""Keeping stored data sound: the audit chain check, retention's purge, re-encryption.

``flask audit``, ``flask data`` and ``flask purge``; the sweeper purges hourly.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register ``flask audit``, ``flask data``, ``flask purge`` and the periodic purge."""
    from certificate.periodic import add_periodic_task
    from certificate.upkeep.cli import audit, data, purge_command
    from certificate.upkeep.tasks import purge

    app.cli.add_command(purge_command)  # `flask purge`, the same as `flask data purge`
    app.cli.add_command(audit)
    app.cli.add_command(data)
    add_periodic_task(app, "upkeep.purge", purge, every_setting="PURGE_INTERVAL_SECONDS")
