"""``flask organisations ...``: register organisations and give them API keys."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from certificate.db import db, utcnow
from certificate.organisations.models import Organisation
from certificate.organisations.service import (
    ApiKeyNotFound,
    OrganisationError,
    add_organisation,
    api_keys,
    create_api_key,
    revoke_api_key,
)

organisations = AppGroup("organisations", help="Employers: organisations and their API keys.")


def _organisation_or_fail(organisation_id: str) -> Organisation:
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise click.ClickException(f"no organisation {organisation_id}")
    return organisation


@organisations.command("add")
@click.option("--name", required=True, help="The registered name holders see.")
@click.option("--short-name", default=None, help="Printed on certificates (32 bytes at most).")
@click.option("--domain", default=None, help="The organisation's internet domain.")
def add_command(name: str, short_name: str | None, domain: str | None) -> None:
    """Register an organisation; prints its id alone on the last line."""
    try:
        organisation = add_organisation(
            db.session, name=name, short_name=short_name, domain=domain, now=utcnow()
        )
    except OrganisationError as exc:
        raise click.BadParameter(str(exc), param_hint=f"--{exc.field}") from exc
    db.session.commit()
    click.echo(f"Added organisation {organisation.name}")
    click.echo(organisation.id)


@organisations.command("api-key")
@click.argument("organisation_id")
@click.option("--name", "label", default="", help="A label for the key.")
def api_key_command(organisation_id: str, label: str) -> None:
    """Create an API key; prints it alone on the last line (it is shown only this once)."""
    organisation = _organisation_or_fail(organisation_id)
    row, key = create_api_key(db.session, organisation, name=label, actor="operator", now=utcnow())
    db.session.commit()
    click.echo(f"API key {row.id} for {organisation.name} (shown once; only its hash is kept):")
    click.echo(key)


@organisations.command("revoke-key")
@click.argument("organisation_id")
@click.argument("key_id")
def revoke_key_command(organisation_id: str, key_id: str) -> None:
    """Revoke an API key, effective at once."""
    try:
        revoke_api_key(db.session, organisation_id, key_id, actor="operator", now=utcnow())
    except ApiKeyNotFound as exc:
        raise click.ClickException(f"no key {key_id} of organisation {organisation_id}") from exc
    db.session.commit()
    click.echo(f"revoked {key_id}")


@organisations.command("list")
def list_command() -> None:
    """Every organisation, with its keys."""
    for organisation in db.session.scalars(db.select(Organisation).order_by(Organisation.name)):
        keys = api_keys(db.session, organisation.id)
        live = sum(1 for k in keys if k.revoked_at is None)
        click.echo(f"{organisation.id}  {organisation.name}  ({live} live key(s))")
