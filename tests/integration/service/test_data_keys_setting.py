"""``IPC_DATA_KEYS`` given as the documented JSON (audit finding 12)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from certificate import create_app
from certificate.encryption import keyring
from tests.databases import fresh_database
from tests.live import FLASK, ROOT


def _documented_keys(kid: str) -> str:
    key = base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()
    return json.dumps({"current": kid, "keys": {kid: key}})


def test_the_documented_json_in_the_environment_starts_the_service(tmp_path: Path) -> None:
    """The auditor exported the setting exactly as the README shows it and ran an
    operator command: start-up crashed with a TypeError. It must start, use those
    keys, and create no key file of its own."""
    instance = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items() if not k.startswith("IPC_")}
    with fresh_database(tmp_path) as database:
        env |= {
            "IPC_INSTANCE_PATH": str(instance),
            "IPC_DATABASE_URL": database,
            "IPC_DATA_KEYS": _documented_keys("fromenv1"),
        }
        done = subprocess.run(
            [*FLASK, "db", "upgrade"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    assert not (instance / "data-keys.json").exists()


def test_the_app_seals_with_the_key_the_environment_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Flask's ``from_prefixed_env`` turns the JSON into a dict; that dict is the keyring."""
    monkeypatch.setenv("IPC_DATA_KEYS", _documented_keys("fromenv2"))
    with fresh_database(tmp_path) as database:
        app = create_app(
            {"TESTING": True, "INSTANCE_PATH": str(tmp_path / "i"), "DATABASE_URL": database}
        )
        assert isinstance(app.config["DATA_KEYS"], dict)
        sealed = keyring().seal(b"A1234567", "test.column")
        assert keyring().key_id(sealed) == "fromenv2"
        assert keyring().open(sealed, "test.column") == b"A1234567"
