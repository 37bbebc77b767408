"""``flask audit …`` and ``flask data …``: the audit chain, retention and re-encryption."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from certificate.audit import AuditEvent, verify_chain
from certificate.db import db
from certificate.encryption import keyring, reencrypt_all
from certificate.upkeep.tasks import purge

audit = AppGroup("audit", help="The audit log.")
data = AppGroup("data", help="Stored personal data: encryption and retention.")


@audit.command("verify")
def audit_verify_command() -> None:
    """Check the audit log's hash chain; exits 1 naming every edited or missing event."""
    problems = verify_chain(db.session)
    count = db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        raise click.ClickException(f"the audit log is broken in {len(problems)} place(s)")
    click.echo(f"the audit log is intact: {count} events")


@data.command("purge")
def purge_command() -> None:
    """Erase personal data that has outlived its purpose (also run by the sweeper hourly)."""
    purged = purge()
    click.echo(f"purged the personal data of {len(purged)} application(s)")


@data.command("reencrypt")
def reencrypt_command() -> None:
    """Re-seal every encrypted value with the current data key."""
    counts = reencrypt_all(db.session)
    db.session.commit()
    for column, count in counts.items():
        click.echo(f"{column}: {count} value(s) sealed with key {keyring().current}")
