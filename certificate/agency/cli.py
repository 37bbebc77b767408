"""``flask agencies …``: national agencies, for operators."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from certificate.agency.models import DEFAULT_DEADLINE_WORKING_DAYS, Agency, AgencyMode
from certificate.agency.service import AgencyError, add_agency, disable_agency, rotate_key
from certificate.db import db

agencies = AppGroup("agencies", help="Manage national agencies.")


def _agency_or_fail(agency_id: str) -> Agency:
    agency = db.session.get(Agency, agency_id)
    if agency is None:
        raise click.ClickException(f"no agency {agency_id}")
    return agency


def _read_key(path: str | None) -> str | None:
    return Path(path).read_text() if path else None


@agencies.command("add")
@click.option("--country", required=True, help="ISO 3166-1 alpha-2 code.")
@click.option("--name", required=True, help="The agency's name, printed on certificates.")
@click.option("--mode", required=True, type=click.Choice([m.value for m in AgencyMode]))
@click.option(
    "--public-key",
    "public_key",
    type=click.Path(exists=True, dir_okay=False),
    help="PEM file of the ES256 or EdDSA key the agency's system signs with.",
)
@click.option("--endpoint", help="The agency's URL (push mode).")
@click.option(
    "--deadline-days",
    type=int,
    default=DEFAULT_DEADLINE_WORKING_DAYS,
    show_default=True,
    help="Working days the agency has to answer.",
)
def add_agency_command(
    country: str,
    name: str,
    mode: str,
    public_key: str | None,
    endpoint: str | None,
    deadline_days: int,
) -> None:
    """Register an agency; prints its id alone on the last line."""
    try:
        agency = add_agency(
            db.session,
            country=country,
            name=name,
            mode=mode,
            public_key_pem=_read_key(public_key),
            endpoint=endpoint,
            deadline_working_days=deadline_days,
        )
    except AgencyError as exc:
        raise click.BadParameter(str(exc), param_hint=f"--{exc.field}") from exc
    db.session.commit()
    click.echo(f"Added {agency.mode} agency for {agency.country}: {agency.name}")
    click.echo(agency.id)


@agencies.command("list")
def list_agencies_command() -> None:
    """Every registered agency."""
    for agency in db.session.scalars(select(Agency).order_by(Agency.country, Agency.created_at)):
        state = "enabled" if agency.enabled else "disabled"
        click.echo(
            f"{agency.id}  {agency.country}  {agency.mode:<6}  {state:<8}  "
            f"{len(agency.active_keys)} key(s)  {agency.name}"
        )


@agencies.command("disable")
@click.argument("agency_id")
def disable_agency_command(agency_id: str) -> None:
    """Stop using an agency (its country falls back to any installed adapter)."""
    disable_agency(db.session, _agency_or_fail(agency_id))
    db.session.commit()
    click.echo(f"disabled {agency_id}")


@agencies.command("rotate-key")
@click.argument("agency_id")
@click.option(
    "--public-key", "public_key", required=True, type=click.Path(exists=True, dir_okay=False)
)
def rotate_agency_key_command(agency_id: str, public_key: str) -> None:
    """Register the agency's new key and retire its earlier ones."""
    try:
        rotate_key(db.session, _agency_or_fail(agency_id), Path(public_key).read_text())
    except AgencyError as exc:
        raise click.BadParameter(str(exc), param_hint="--public-key") from exc
    db.session.commit()
    click.echo(f"rotated the key of {agency_id}")
