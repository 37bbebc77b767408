"""``flask adapters …``: what serves each country; a new adapter package's skeleton."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from certificate.adapters.coverage import unserved, unserved_message
from certificate.runtime import runtime

adapters = AppGroup("adapters", help="Country adapters: installed packages and agencies.")


@adapters.command("list")
def list_adapters_command() -> None:
    """One line per served country: its code, what serves it, and where that came from.

    Exits non-zero naming every country of IPC_REQUIRED_COUNTRIES that nothing serves.
    """
    registry = runtime().registry
    for line in registry.coverage():
        click.echo(f"{line.country}  {line.served_by}  {line.source}")
    missing = unserved(registry, current_app.config["REQUIRED_COUNTRIES"])
    if missing:
        raise click.ClickException(unserved_message(missing))
