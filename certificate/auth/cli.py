"""``flask users …``: accounts, for operators."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from certificate.audit import record_event
from certificate.auth.models import Role, User
from certificate.auth.service import (
    AccountError,
    create_user,
    disable_user,
    end_sessions,
    normalise_email,
)
from certificate.db import db

users = AppGroup("users", help="Manage accounts.")


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
@click.option(
    "--organisation", default=None, help="An organisation's id; employers and ID checkers only."
)
def create_user_command(
    email: str, password: str, name: str, role: str, country: str | None, organisation: str | None
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
            email_verified=True,  # accounts an operator creates need no e-mail check
            organisation_id=organisation,
        )
    except AccountError as exc:
        raise click.BadParameter(str(exc), param_hint=f"--{exc.field}") from exc
    db.session.commit()
    click.echo(user.id)


def _user_or_fail(email: str) -> User:
    user = db.session.scalars(select(User).where(User.email == normalise_email(email))).first()
    if user is None:
        raise click.ClickException(f"no account {email}")
    return user


@users.command("disable")
@click.argument("email")
def disable_user_command(email: str) -> None:
    """Disable an account; its sessions and API tokens end at once."""
    disable_user(db.session, _user_or_fail(email), actor="operator")
    db.session.commit()
    click.echo(f"disabled {email}")


@users.command("reset-second-factor")
@click.argument("email")
def reset_second_factor_command(email: str) -> None:
    """Forget an officer's or admin's authenticator (lost phone): they enrol anew at log-in."""
    user = _user_or_fail(email)
    user.totp_secret = None
    user.totp_last_step = None
    end_sessions(db.session, user)
    record_event(
        db.session,
        actor="operator",
        action="account.totp_reset",
        subject_type="user",
        subject_id=user.id,
    )
    db.session.commit()
    click.echo(f"the second factor of {email} will be enrolled again at the next log-in")
