"""Operator commands: ``flask --app wsgi <group> <command>``."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from certificate.auth.models import Role, User
from certificate.auth.service import AccountError, create_user
from certificate.db import db, utcnow
from certificate.issuance.revocation import AlreadyRevoked, CertificateNotFound, revoke
from certificate.runtime import runtime
from certificate.signing.keys import rotate

users = AppGroup("users", help="Manage accounts.")
certificates = AppGroup("certificates", help="Manage issued certificates.")
keys = AppGroup("keys", help="Manage signing keys.")
demo = AppGroup("demo", help="Demo data for a laptop.")

DEMO_ACCOUNTS = (
    ("applicant@example.org", "demo-applicant-pw", "Ada Okafor", Role.APPLICANT.value),
    ("admin@example.org", "demo-admin-password", "Demo Admin", Role.ADMIN.value),
)


@users.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--name", default="", help="Display name (defaults to the e-mail).")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.APPLICANT.value,
    show_default=True,
)
@click.option("--country", default=None, help="ISO code; agency officers only.")
def create_user_command(
    email: str, password: str, name: str, role: str, country: str | None
) -> None:
    """Create an account and print its id."""
    try:
        user = create_user(
            db.session,
            email=email,
            password=password,
            name=name or email,
            role=role,
            country=country.upper() if country else None,
        )
    except AccountError as exc:
        raise click.BadParameter(str(exc), param_hint=f"--{exc.field}") from exc
    db.session.commit()
    click.echo(user.id)


@certificates.command("revoke")
@click.option("--reason", required=True, help="Why; kept in the audit log.")
@click.argument("certificate_id")
def revoke_command(certificate_id: str, reason: str) -> None:
    """Revoke a certificate; verification answers 'revoked' from now on."""
    try:
        certificate = revoke(
            db.session, certificate_id, reason=reason, actor="operator", now=utcnow()
        )
    except CertificateNotFound as exc:
        raise click.ClickException(f"no certificate {certificate_id}") from exc
    except AlreadyRevoked as exc:
        raise click.ClickException(f"certificate {exc} was already revoked") from exc
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--reason") from exc
    db.session.commit()
    click.echo(f"revoked {certificate.id}")


@keys.command("rotate")
def rotate_command() -> None:
    """Create a new signing key; earlier keys stay published to verify what they signed."""
    key = rotate(db.session, runtime().keys)
    db.session.commit()
    click.echo(key.kid)


@demo.command("seed")
def seed_command() -> None:
    """Create the demo applicant and admin (once) and print their credentials."""
    for email, password, name, role in DEMO_ACCOUNTS:
        exists = db.session.scalars(select(User).where(User.email == email)).first()
        if exists is None:
            create_user(db.session, email=email, password=password, name=name, role=role)
        click.echo(f"  {role:<10} {email}  password: {password}")
    db.session.commit()


def register_commands(app: Flask) -> None:
    """Attach the command groups to the app's CLI."""
    for group in (users, certificates, keys, demo):
        app.cli.add_command(group)
