"""``flask keys …``: the signing keys and the data-encryption keys."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from certificate.db import db
from certificate.encryption import install_keys, load_data_keys, write_key_file
from certificate.runtime import runtime
from certificate.signing.keys import rotate

keys = AppGroup("keys", help="Manage signing keys.")


@keys.command("rotate")
def rotate_command() -> None:
    """Create a new signing key; earlier keys stay published to verify what they signed."""
    key = rotate(db.session, runtime().keys)
    db.session.commit()
    click.echo(key.kid)


@keys.command("rotate-data")
def rotate_data_key_command() -> None:
    """Add a data-encryption key that seals every value written from now on."""
    instance = Path(current_app.instance_path)
    if current_app.config.get("DATA_KEYS"):
        raise click.ClickException(
            "the data keys come from IPC_DATA_KEYS: add the new key in your secret store"
        )
    path = instance / "data-keys.json"
    document = json.loads(path.read_text())
    kid = write_key_file(path, document, add_new=True)
    install_keys(*load_data_keys(instance, None))
    click.echo(kid)
