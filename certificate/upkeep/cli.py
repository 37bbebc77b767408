"""``flask audit …`` and ``flask data …``: the audit chain, retention and re-encryption."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from certificate.audit import (
    AuditEvent,
    CheckpointInvalid,
    checkpoint,
    parse_checkpoint,
    verify_against_checkpoint,
    verify_chain,
)
from certificate.db import db
from certificate.encryption import keyring, reencrypt_all
from certificate.runtime import runtime
from certificate.signing.keys import active_key
from certificate.storage import SealedFileStore
from certificate.upkeep.tasks import purge

audit = AppGroup("audit", help="The audit log.")
data = AppGroup("data", help="Stored personal data: encryption and retention.")


@audit.command("verify")
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(exists=True, dir_okay=False),
    help="A checkpoint printed earlier by `audit checkpoint`: the log must still extend it.",
)
def audit_verify_command(checkpoint_file: str | None) -> None:
    """Check the audit log's keyed hash chain; exits 1 naming the first bad event first."""
    if checkpoint_file is None:
        problems = verify_chain(db.session)
    else:
        try:
            document = json.loads(Path(checkpoint_file).read_text())
        except ValueError as exc:
            raise click.ClickException(f"{checkpoint_file} is not JSON") from exc
        kid = str(document.get("kid", "")) if isinstance(document, dict) else ""
        try:
            public_key = runtime().keys.private_key(kid).public_key()
        except KeyError:
            public_key = None
        try:
            point = parse_checkpoint(document, public_key)
        except CheckpointInvalid as exc:
            raise click.ClickException(f"{checkpoint_file}: {exc}") from exc
        problems = verify_against_checkpoint(db.session, point)
    count = db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        raise click.ClickException(
            f"the audit log is broken in {len(problems)} place(s); the first: {problems[0]}"
        )
    extends = f", extending the checkpoint of {checkpoint_file}" if checkpoint_file else ""
    click.echo(f"the audit log is intact: {count} events{extends}")


@audit.command("checkpoint")
def audit_checkpoint_command() -> None:
    """Print a signed checkpoint of the audit log (JSON: size, head, signature, kid).

    Keep it outside the service (an auditor, another machine): `audit verify
    --checkpoint FILE` then detects any later edit, deletion, truncation or rewrite.
    """
    store = runtime().keys
    kid = active_key(db.session, store).kid
    db.session.commit()  # the first signing key may have just been created
    point = checkpoint(db.session, store.private_key(kid), kid)
    click.echo(json.dumps(point.as_json(), sort_keys=True))


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
    files = runtime().files
    if isinstance(files, SealedFileStore):
        count = files.reseal()
        click.echo(f"documents: {count} file(s) sealed with key {keyring().current}")
