"""``flask adapters …``: what serves each country; a new adapter package's skeleton."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from certificate.adapters.coverage import unserved, unserved_message
from certificate.adapters.skeleton import write_skeleton
from certificate.runtime import runtime
from country_adapters.countries import is_country_code

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


@adapters.command("new")
@click.argument("country")
@click.option(
    "--into",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The folder to create the package in.",
)
def new_adapter_command(country: str, into: Path) -> None:
    """Write the skeleton of an adapter package for COUNTRY that passes its own tests."""
    code = country.strip().upper()
    if not is_country_code(code):
        raise click.BadParameter(
            f"{country!r} is not an ISO 3166-1 alpha-2 code", param_hint="COUNTRY"
        )
    try:
        root = write_skeleton(code, into)
    except FileExistsError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"wrote {root}: run `python -m pytest` there, then adapt adapter.py to the registry")
