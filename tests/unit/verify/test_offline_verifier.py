"""The offline verifier: a JWKS file, a token or PDF, and no database at all.

A certificate is issued once per module by a real app; the app and its
database are then deleted before anything is verified, and the CLI runs in
a subprocess whose database URL points nowhere.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from certificate.signing.pades import create_root_ca
from certificate.verify.offline import (
    STATUS_NOT_CHECKED,
    JwksError,
    load_jwks,
    verify_offline,
)
from tests.conftest import SANDBOX, application_body, drain, signup_and_token

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def material(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A token, its PDF, the JWKS and the PAdES root — and then no database."""
    from certificate import create_app
    from certificate.db import db

    directory = tmp_path_factory.mktemp("offline")
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(directory / "instance"),
            "DATABASE_URL": f"sqlite:///{directory / 'gone.sqlite3'}",
            "SECRET_KEY": "x",
            "BASE_URL": "http://ipc.test",
            "SANDBOX_COUNTRIES": SANDBOX,
            "IDENTITY_PROOFING": "sandbox",
            "JOBS_ENABLED": False,
            "RETRY_BASE_SECONDS": 0,
            "RETRY_MAX_SECONDS": 0,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        db.create_all()
    client = app.test_client()
    auth = signup_and_token(client)
    created = client.post(
        "/api/v1/applications", json=application_body("OFFLINE"), headers=auth
    ).get_json()
    drain(app)
    certificate = client.get(f"/api/v1/applications/{created['id']}", headers=auth).get_json()[
        "certificate"
    ]
    pdf = client.get(certificate["pdf_url"], headers=auth).data
    jwks = client.get("/.well-known/jwks.json").get_json()
    root = (directory / "instance" / "pades" / "root.pem").read_bytes()
    with app.app_context():
        db.drop_all()
        db.engine.dispose()
    (directory / "gone.sqlite3").unlink()
    shutil.rmtree(directory / "instance")  # no keys, no database, nothing but the files below
    files = directory / "files"
    files.mkdir()
    (files / "jwks.json").write_text(json.dumps(jwks))
    (files / "certificate.pdf").write_bytes(pdf)
    (files / "root.pem").write_bytes(root)
    return {
        "id": certificate["id"],
        "token": certificate["verify_url"].split("#", 1)[1],
        "verify_url": certificate["verify_url"],
        "pdf": pdf,
        "jwks": jwks,
        "files": files,
    }


def test_a_token_verifies_with_the_jwks_alone(material: dict[str, Any]) -> None:
    result = verify_offline(material["token"], material["jwks"])
    assert result.valid
    assert result.status == "valid"
    assert result.claims is not None
    assert result.claims["jti"] == material["id"]
    assert result.status_checked is False
    assert result.notice == STATUS_NOT_CHECKED
    assert verify_offline(material["verify_url"], material["jwks"]).valid  # the QR content too


def test_a_pdf_verifies_with_its_pades_signature_and_embedded_token(
    material: dict[str, Any],
) -> None:
    from cryptography import x509

    root = x509.load_pem_x509_certificate((material["files"] / "root.pem").read_bytes())
    result = verify_offline(material["pdf"], material["jwks"], trust_roots=(root,))
    assert result.valid, result
    assert result.claims is not None
    assert result.claims["jti"] == material["id"]
    assert result.pdf_signature == "valid"
    without_root = verify_offline(material["pdf"], material["jwks"])
    assert without_root.valid
    assert without_root.pdf_signature == "valid (signer's chain not checked)"
    _, stranger = create_root_ca(datetime.now(UTC))
    untrusted = verify_offline(material["pdf"], material["jwks"], trust_roots=(stranger,))
    assert untrusted.status == "invalid"


def test_an_edited_pdf_is_invalid_offline(material: dict[str, Any]) -> None:
    pdf = material["pdf"]
    at = pdf.index(b"International Police Certificate service")
    edited = pdf[:at] + b"J" + pdf[at + 1 :]
    result = verify_offline(edited, material["jwks"])
    assert result.status == "invalid"
    assert result.claims is None
    assert (result.pdf_signature or "").startswith("invalid")
    appended = verify_offline(pdf + b"\n1 0 obj\n<<>>\nendobj\n%%EOF\n", material["jwks"])
    assert appended.status == "invalid"


def test_forged_tokens_and_unknown_keys_are_invalid(material: dict[str, Any]) -> None:
    claims = jwt.decode(material["token"], options={"verify_signature": False})
    kid = jwt.get_unverified_header(material["token"])["kid"]
    stranger = Ed25519PrivateKey.generate()
    for token in (
        jwt.encode(claims, stranger, algorithm="EdDSA", headers={"kid": kid}),
        jwt.encode(claims, stranger, algorithm="EdDSA", headers={"kid": "unknown"}),
        jwt.encode(claims, "a-secret-that-is-long-enough-for-hs256", algorithm="HS256"),
        "garbage",
    ):
        result = verify_offline(token, material["jwks"])
        assert result.status == "invalid"
        assert result.claims is None
    assert not verify_offline(material["token"], {"keys": []}).valid
    assert verify_offline(material["token"], material["jwks"], issuer="XYZ").status == "invalid"


def test_expiry_is_checked_offline(material: dict[str, Any]) -> None:
    later = datetime.now(UTC) + timedelta(days=3650)
    result = verify_offline(material["token"], material["jwks"], now=later)
    assert result.status == "expired"
    assert not result.valid


def test_a_bad_key_set_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('{"not": "a jwks"}')
    with pytest.raises(JwksError):
        load_jwks(str(tmp_path / "bad.json"))
    with pytest.raises(JwksError):
        load_jwks(str(tmp_path / "missing.json"))


def _cli(material: dict[str, Any], tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        # a database that does not exist and cannot be created: any query would fail
        "IPC_DATABASE_URL": "sqlite:////nonexistent-directory/ipc.sqlite3",
        "IPC_INSTANCE_PATH": str(tmp_path / "empty-instance"),
    }
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "certificates", "verify", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_cli_verifies_a_pdf_and_a_token_without_a_database(
    material: dict[str, Any], tmp_path: Path
) -> None:
    files = material["files"]
    jwks = str(files / "jwks.json")
    pdf = _cli(
        material, tmp_path, str(files / "certificate.pdf"), "--jwks", jwks,
        "--pades-root", str(files / "root.pem"),
    )  # fmt: skip
    assert pdf.returncode == 0, pdf.stdout + pdf.stderr
    assert "status: valid" in pdf.stdout
    assert "summary: No record in any of the 3 countries checked." in pdf.stdout
    for line in ("  KE Kenya: No record", "  TH Thailand: No record", "  NG Nigeria: No record"):
        assert line in pdf.stdout.splitlines()
    assert "Traceback" not in pdf.stderr
    assert material["id"] in pdf.stdout
    assert "PDF signature: valid" in pdf.stdout
    assert "Revocation and supersession were not checked" in pdf.stdout
    token = _cli(material, tmp_path, material["token"], "--jwks", jwks, "--json")
    assert token.returncode == 0, token.stdout + token.stderr
    answer = json.loads(token.stdout)
    assert (answer["status"], answer["status_checked"]) == ("valid", False)
    forged = _cli(material, tmp_path, "not.a.token", "--jwks", jwks)
    assert forged.returncode == 1
    assert "status: invalid" in forged.stdout
