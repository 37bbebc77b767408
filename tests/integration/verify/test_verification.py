"""Verification by token, typed number and PDF; revocation, expiry, and the published keys."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import text

from certificate.db import db, utcnow
from certificate.issuance.models import Certificate
from certificate.signing import ed25519, jws
from certificate.signing.token_macs import derive_key, token_mac
from tests.conftest import issue_certificate


@pytest.fixture
def issued(app: Flask, client: FlaskClient, auth: dict[str, str]) -> dict[str, Any]:
    certificate = issue_certificate(app, client, auth, "RECORDER")
    certificate["pdf"] = client.get(certificate["pdf_url"], headers=auth).data
    return certificate


def _verify(client: FlaskClient, **body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/verify", json=body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_fresh_certificate_is_valid_three_ways(
    client: FlaskClient, issued: dict[str, Any]
) -> None:
    by_token = _verify(client, token=issued["token"])
    assert by_token["valid"] is True
    assert by_token["status"] == "valid"
    claims = by_token["certificate"]
    assert claims["jti"] == issued["id"]
    assert (claims["n"], claims["dob"]) == ("RECORDER<<ADA<CHIOMA", "1990-04-17")
    assert claims["c"] == "rKETHNG"
    # the full names come from the service's records, not from the token
    assert by_token["holder"] == {
        "family_name": "RECORDER",
        "given_names": "Ada Chioma",
        "latin_name": None,
    }
    # genuine and in force says nothing about records: the summary does
    assert by_token["authentic"] is True
    assert by_token["summary"] == {
        "countries": 3,
        "no_record": 0,
        "record_found": 3,
        "unconfirmed": 0,
        "not_covered": 0,
    }
    assert by_token["summary_text"] == "Records found in 3 of 3 countries."
    french = client.post(
        "/api/v1/verify", json={"token": issued["token"]}, headers={"Accept-Language": "fr"}
    ).get_json()
    assert french["summary_text"] == "Condamnations inscrites dans 3 pays sur 3."
    by_number = _verify(
        client, certificate_id=issued["id"].lower().replace("-", " "), date_of_birth="1990-04-17"
    )
    assert by_number["status"] == "valid"
    assert by_number["certificate"] == claims
    upload = client.post(
        "/api/v1/verify",
        data={"file": (_io(issued["pdf"]), "c.pdf")},
        content_type="multipart/form-data",
    )
    assert upload.get_json()["status"] == "valid"


def _io(data: bytes) -> Any:
    import io

    return io.BytesIO(data)


def test_the_token_verifies_against_the_published_jwks(
    client: FlaskClient, issued: dict[str, Any]
) -> None:
    keys = client.get("/.well-known/jwks.json").get_json()["keys"]
    kid = jwt.get_unverified_header(issued["token"])["kid"]
    jwk = next(k for k in keys if k["kid"] == kid)
    claims = jwt.decode(issued["token"], jwt.PyJWK(jwk).key, algorithms=["EdDSA"])
    assert claims["jti"] == issued["id"]
    assert claims["iss"] == "IPC"


def _forge(claims: dict[str, Any], header: dict[str, Any], signature: bytes = b"sig") -> str:
    def enc(part: Any) -> str:
        raw = part if isinstance(part, bytes) else json.dumps(part).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{enc(header)}.{enc(claims)}.{enc(signature)}"


def test_forged_and_malformed_tokens_are_invalid_and_echo_nothing(
    client: FlaskClient, issued: dict[str, Any]
) -> None:
    kid = jwt.get_unverified_header(issued["token"])["kid"]
    claims = jwt.decode(issued["token"], options={"verify_signature": False})
    stranger = Ed25519PrivateKey.generate()
    header, _payload, signature = issued["token"].split(".")
    edited = dict(claims, fn="SOMEONE ELSE")
    tampered = ".".join([header, _forge(edited, {}).split(".")[1], signature])
    raw_signature = base64.urlsafe_b64decode(signature + "==")

    def resigned(raw: bytes) -> str:  # the genuine header and claims, another signature
        return ".".join([header, _payload, base64.urlsafe_b64encode(raw).rstrip(b"=").decode()])

    candidates = [
        tampered,
        resigned(raw_signature[:-1]),  # one byte short: never read into the message
        resigned(raw_signature + b"\0"),  # one byte long
        resigned(raw_signature[:32] + bytes(32)),  # R kept, S zeroed
        jwt.encode(claims, stranger, algorithm="EdDSA", headers={"kid": kid}),
        jwt.encode(claims, stranger, algorithm="EdDSA", headers={"kid": "not-our-key"}),
        _forge(claims, {"alg": "none", "kid": kid}, b""),
        jwt.encode(
            claims, "a-guessed-secret-that-is-long-enough", algorithm="HS256", headers={"kid": kid}
        ),
        "not.a.token",
        "garbage",
    ]
    for token in candidates:
        answer = _verify(client, token=token)
        assert answer == {
            "valid": False,
            "authentic": False,
            "status": "invalid",
            "certificate": None,
            "summary": None,
            "summary_text": None,
            "reason": answer["reason"],
            "holder": None,
        }
        assert "SOMEONE" not in json.dumps(answer)


def test_wrong_unknown_and_malformed_numbers_answer_identically(
    client: FlaskClient, issued: dict[str, Any]
) -> None:
    wrong_birth = client.post(
        "/api/v1/verify", json={"certificate_id": issued["id"], "date_of_birth": "1990-04-18"}
    )
    unknown = client.post(
        "/api/v1/verify", json={"certificate_id": "0" * 28, "date_of_birth": "1990-04-17"}
    )
    malformed = client.post(
        "/api/v1/verify", json={"certificate_id": "12; DROP TABLE", "date_of_birth": "1990-04-17"}
    )
    assert wrong_birth.data == unknown.data == malformed.data
    assert wrong_birth.get_json()["status"] == "unknown"
    assert wrong_birth.get_json()["certificate"] is None


def test_a_stored_token_moved_to_another_certificate_is_not_vouched_for(
    app: Flask, client: FlaskClient, auth: dict[str, str], issued: dict[str, Any]
) -> None:
    """Someone who can write the database moves another certificate's (genuine, sealed)
    token onto this one's row: a typed number must not answer with the other's claims."""
    other = issue_certificate(app, client, auth, "CLEAN")
    asked = {"certificate_id": issued["id"], "date_of_birth": "1990-04-17"}
    assert _verify(client, **asked)["status"] == "valid"
    with app.app_context():  # the sealed value itself, never opened: SQL alone
        db.session.execute(
            text(
                "UPDATE certificates SET token = "
                "(SELECT token FROM certificates WHERE id = :other) WHERE id = :this"
            ),
            {"other": other["id"], "this": issued["id"]},
        )
        db.session.commit()
    answer = _verify(client, **asked)
    assert (answer["status"], answer["certificate"]) == ("invalid", None)
    assert _verify(client, token=issued["token"])["status"] == "valid"  # the QR's own token


class SignatureChecks:
    """Counts the Ed25519 checks made (certificate.signing.ed25519.verify)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = ed25519.verify

        def counted(*args: bytes) -> bool:
            self.count += 1
            return real(*args)

        monkeypatch.setattr(ed25519, "verify", counted)


def test_a_typed_number_is_vouched_for_by_the_stored_tokens_mac(
    app: Flask, client: FlaskClient, issued: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    with app.app_context():
        stored = db.session.get(Certificate, issued["id"])
        assert stored is not None
        assert len(stored.token_mac or "") == 64
    checks = SignatureChecks(monkeypatch)
    asked = {"certificate_id": issued["id"], "date_of_birth": "1990-04-17"}
    assert _verify(client, **asked)["certificate"]["jti"] == issued["id"]
    assert checks.count == 0  # the MAC, not the signature (a microsecond against 50)
    assert _verify(client, token=issued["token"])["status"] == "valid"
    assert checks.count == 1  # a QR token is always checked by its signature


def test_a_stored_token_without_its_mac_is_checked_by_its_signature(
    app: Flask, client: FlaskClient, issued: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Certificates issued before the MAC existed, or whose MAC does not match."""
    asked = {"certificate_id": issued["id"], "date_of_birth": "1990-04-17"}
    checks = SignatureChecks(monkeypatch)
    for mac in (None, "0" * 64):
        with app.app_context():
            db.session.execute(
                text("UPDATE certificates SET token_mac = :mac WHERE id = :id"),
                {"mac": mac, "id": issued["id"]},
            )
            db.session.commit()
        assert _verify(client, **asked)["status"] == "valid"
    assert checks.count == 2


def test_a_forged_stored_token_is_not_vouched_for(
    app: Flask, client: FlaskClient, issued: dict[str, Any]
) -> None:
    """Someone who holds the data key and can write the database, but not the signing key,
    writes a token of their own (other outcomes, under the certificate's kid and number),
    with a MAC of their own."""
    claims = dict(jwt.decode(issued["token"], options={"verify_signature": False}))
    claims["c"] = "nKEnTHnNG"  # no record anywhere
    header = jwt.get_unverified_header(issued["token"])
    forger = Ed25519PrivateKey.generate()
    forged = jws.sign(claims, forger, header["kid"], typ=jws.CERTIFICATE_TYP)
    for mac in (None, token_mac(derive_key(forger), issued["id"], forged)):
        with app.app_context():
            stored = db.session.get(Certificate, issued["id"])
            assert stored is not None
            stored.token, stored.token_mac = forged, mac  # sealed with the data key
            db.session.commit()
        answer = _verify(client, certificate_id=issued["id"], date_of_birth="1990-04-17")
        assert (answer["status"], answer["certificate"]) == ("invalid", None)


def test_bad_verification_requests_are_400(client: FlaskClient) -> None:
    assert client.post("/api/v1/verify", json={}).status_code == 400
    no_date = client.post("/api/v1/verify", json={"certificate_id": "X"})
    assert "date_of_birth" in no_date.get_json()["error"]["fields"]
    not_pdf = client.post(
        "/api/v1/verify",
        data={"file": (_io(b"hello"), "x.pdf")},
        content_type="multipart/form-data",
    )
    assert not_pdf.status_code == 400
    assert "file" in not_pdf.get_json()["error"]["fields"]


def test_an_edited_pdf_is_invalid(client: FlaskClient, issued: dict[str, Any]) -> None:
    edited = issued["pdf"].replace(b"RECORDER", b"RECORDEX", 1)
    if edited == issued["pdf"]:
        edited = issued["pdf"] + b"\n% appended\n"
    upload = client.post(
        "/api/v1/verify", data={"file": (_io(edited), "c.pdf")}, content_type="multipart/form-data"
    )
    assert upload.get_json()["status"] == "invalid"


def test_revocation_takes_effect_for_every_way_in(
    client: FlaskClient, runner: FlaskCliRunner, issued: dict[str, Any]
) -> None:
    result = runner.invoke(
        args=["certificates", "revoke", "--reason", "Issued in error", issued["id"]]
    )
    assert result.exit_code == 0, result.output
    assert _verify(client, token=issued["token"])["status"] == "revoked"
    assert (
        _verify(client, certificate_id=issued["id"], date_of_birth="1990-04-17")["status"]
        == "revoked"
    )
    upload = client.post(
        "/api/v1/verify",
        data={"file": (_io(issued["pdf"]), "c.pdf")},
        content_type="multipart/form-data",
    )
    assert upload.get_json()["valid"] is False
    again = runner.invoke(args=["certificates", "revoke", "--reason", "x", issued["id"]])
    assert again.exit_code != 0
    missing = runner.invoke(args=["certificates", "revoke", "--reason", "x", "0" * 28])
    assert "no certificate" in missing.output


def test_expiry_is_reported(app: Flask, client: FlaskClient, issued: dict[str, Any]) -> None:
    with app.app_context():
        certificate = db.session.get(Certificate, issued["id"])
        assert certificate is not None
        certificate.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert _verify(client, token=issued["token"])["status"] == "expired"


def test_keys_rotate_and_old_certificates_still_verify(
    client: FlaskClient, runner: FlaskCliRunner, issued: dict[str, Any]
) -> None:
    old_kid = jwt.get_unverified_header(issued["token"])["kid"]
    result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 0
    new_kid = result.output.strip()
    assert new_kid != old_kid
    keys = {k["kid"]: k for k in client.get("/.well-known/jwks.json").get_json()["keys"]}
    assert "retired_at" in keys[old_kid]
    assert new_kid in keys
    assert _verify(client, token=issued["token"])["status"] == "valid"


def test_certificate_ids_are_long_random_and_typeable(issued: dict[str, Any]) -> None:
    from certificate.issuance.claims import new_certificate_id

    ids = {new_certificate_id() for _ in range(2000)} | {issued["id"]}
    assert len(ids) == 2001
    for value in list(ids)[:50]:
        groups = value.split("-")
        assert all((len(g) == 4 and g.isalnum() and g.isupper()) or g.isdigit() for g in groups)
        assert len("".join(groups)) * 5 >= 128
