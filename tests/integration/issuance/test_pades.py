"""PAdES signatures on issued certificates, checked by poppler's pdfsig, pyHanko and the upload verifier.

pdfsig (poppler-utils) must be installed; .ci/run installs it. Its NSS trust
store is a throwaway database holding only our root.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from flask import Flask
from flask.testing import FlaskClient
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import SignatureCoverageLevel, validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from certificate.db import db
from certificate.issuance.models import Certificate
from certificate.signing.pades import (
    FIELD_NAME,
    PadesCredentials,
    check_pdf_signature,
    create_root_ca,
    embedded_verify_url,
    issue_signer_certificate,
    sign_pdf,
)
from tests.conftest import issue_certificate

PDFSIG = shutil.which("pdfsig")
CERTUTIL = shutil.which("certutil")
needs_pdfsig = pytest.mark.skipif(PDFSIG is None, reason="pdfsig (poppler-utils) not installed")


def _issue(app: Flask, client: FlaskClient, auth: dict[str, str]) -> dict[str, Any]:
    certificate = issue_certificate(app, client, auth, "SIGNED")
    certificate["pdf"] = client.get(certificate["pdf_url"], headers=auth).data
    return certificate


@pytest.fixture
def issued(app: Flask, client: FlaskClient, auth: dict[str, str]) -> dict[str, Any]:
    return _issue(app, client, auth)


@pytest.fixture
def root_pem(app: Flask) -> bytes:
    return (Path(app.instance_path) / "pades" / "root.pem").read_bytes()


def _root(pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem)


def _asn1(certificate: x509.Certificate) -> Any:
    from asn1crypto import x509 as asn1_x509

    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def _pyhanko_status(pdf: bytes, root: x509.Certificate) -> Any:
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    [signature] = reader.embedded_signatures
    return validate_pdf_signature(signature, ValidationContext(trust_roots=[_asn1(root)]))


def _pdfsig(tmp_path: Path, pdf: bytes, nssdir: Path | None = None) -> str:
    assert PDFSIG is not None
    path = tmp_path / f"{hashlib.sha256(pdf).hexdigest()[:12]}.pdf"
    path.write_bytes(pdf)
    args = [PDFSIG]  # (-no-ocsp makes poppler 22 report "Unknown issue"; we have no AIA anyway)
    if nssdir is not None:
        args += ["-nssdir", f"sql:{nssdir}"]
    result = subprocess.run([*args, str(path)], capture_output=True, text=True, check=False)
    return result.stdout + result.stderr


def _appended(pdf: bytes) -> bytes:
    """An incremental update after the signature: the title changed, as an editor would."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    info = writer.trailer.raw_get("/Info").get_object()
    info[generic.NameObject("/Title")] = generic.TextStringObject("Edited certificate")
    writer.update_container(info)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _flipped(pdf: bytes) -> bytes:
    """One byte changed inside the signed range (the Author entry written at rendering)."""
    at = pdf.index(b"International Police Certificate service")
    data = bytearray(pdf)
    data[at] ^= 0x01
    return bytes(data)


def _upload(client: FlaskClient, pdf: bytes) -> Any:
    return client.post(
        "/api/v1/verify",
        data={"file": (io.BytesIO(pdf), "certificate.pdf")},
        content_type="multipart/form-data",
    )


# --- signed at issuance ------------------------------------------------------


def test_the_stored_hash_is_that_of_the_signed_pdf(app: Flask, issued: dict[str, Any]) -> None:
    assert b"/ETSI.CAdES.detached" in issued["pdf"]
    with app.app_context():
        row = db.session.get(Certificate, issued["id"])
        assert row is not None
        assert row.pdf_sha256 == hashlib.sha256(issued["pdf"]).hexdigest()
        assert embedded_verify_url(issued["pdf"]) == f"http://ipc.test/v#{row.token}"


def test_pyhanko_finds_the_signature_intact_and_trusted(
    issued: dict[str, Any], root_pem: bytes
) -> None:
    status = _pyhanko_status(issued["pdf"], _root(root_pem))
    assert status.intact
    assert status.valid
    assert status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.bottom_line
    key_usage = status.signing_cert.key_usage_value.native
    assert {"digital_signature", "non_repudiation"} <= set(key_usage)
    assert status.signing_cert.issuer == _asn1(_root(root_pem)).subject


def test_pyhanko_does_not_trust_another_root(issued: dict[str, Any]) -> None:
    _, stranger = create_root_ca(datetime.now(UTC))
    status = _pyhanko_status(issued["pdf"], stranger)
    assert status.intact
    assert not status.trusted
    assert not check_pdf_signature(issued["pdf"], (stranger,)).ok


@needs_pdfsig
def test_pdfsig_reports_the_signature_valid(
    tmp_path: Path, issued: dict[str, Any], root_pem: bytes
) -> None:
    output = _pdfsig(tmp_path, issued["pdf"])
    assert "Signature is Valid." in output, output
    assert f"Signature Field Name: {FIELD_NAME}" in output
    assert "Total document signed" in output
    assert "Not total document signed" not in output


@needs_pdfsig
@pytest.mark.skipif(CERTUTIL is None, reason="certutil (libnss3-tools) not installed")
def test_pdfsig_trusts_the_certificate_once_our_root_is_in_its_store(
    tmp_path: Path, issued: dict[str, Any], root_pem: bytes
) -> None:
    assert CERTUTIL is not None
    nssdir = tmp_path / "nss"
    nssdir.mkdir()
    (tmp_path / "root.pem").write_bytes(root_pem)
    subprocess.run(
        [CERTUTIL, "-N", "-d", f"sql:{nssdir}", "--empty-password"], check=True, capture_output=True
    )
    subprocess.run(
        [
            CERTUTIL,
            "-A",
            "-n",
            "ipc-root",
            "-t",
            "CT,C,C",
            "-i",
            str(tmp_path / "root.pem"),
            "-d",
            f"sql:{nssdir}",
        ],
        check=True,
        capture_output=True,
    )
    output = _pdfsig(tmp_path, issued["pdf"], nssdir)
    assert "Signature is Valid." in output, output
    assert "Certificate is Trusted." in output, output


# --- edited copies -------------------------------------------------------------


@needs_pdfsig
def test_an_appended_edit_is_reported_by_all_three(
    tmp_path: Path, client: FlaskClient, issued: dict[str, Any], root_pem: bytes
) -> None:
    edited = _appended(issued["pdf"])
    assert edited.startswith(issued["pdf"])
    assert "Not total document signed" in _pdfsig(tmp_path, edited)
    status = _pyhanko_status(edited, _root(root_pem))
    assert status.coverage != SignatureCoverageLevel.ENTIRE_FILE
    assert not check_pdf_signature(edited, (_root(root_pem),)).ok
    answer = _upload(client, edited).get_json()
    assert (answer["valid"], answer["status"], answer["certificate"]) == (False, "invalid", None)


@needs_pdfsig
def test_a_changed_byte_is_reported_by_all_three(
    tmp_path: Path, client: FlaskClient, issued: dict[str, Any], root_pem: bytes
) -> None:
    edited = _flipped(issued["pdf"])
    assert "Digest Mismatch." in _pdfsig(tmp_path, edited)
    status = _pyhanko_status(edited, _root(root_pem))
    assert not status.intact
    assert not check_pdf_signature(edited, (_root(root_pem),)).ok
    assert _upload(client, edited).get_json()["status"] == "invalid"


def test_a_re_signed_copy_is_invalid(
    client: FlaskClient, issued: dict[str, Any], root_pem: bytes
) -> None:
    # our certification signature forbids any change, so a forger strips it
    # (keeping the rendered revision) and signs with a key of their own
    unsigned = issued["pdf"][: issued["pdf"].index(b"%%EOF") + len(b"%%EOF\n")]
    now = datetime.now(UTC)
    root_key, root = create_root_ca(now)
    key, certificate = issue_signer_certificate(root_key, root, now)
    resigned = sign_pdf(unsigned, PadesCredentials(key, certificate, (root,)))
    assert check_pdf_signature(resigned, (root,)).ok  # a good signature, but not ours
    assert not check_pdf_signature(resigned, (_root(root_pem),)).ok
    assert _upload(client, resigned).get_json()["status"] == "invalid"
    with pytest.raises(Exception, match="forbids all changes"):
        sign_pdf(
            issued["pdf"],
            PadesCredentials(key, certificate, (root,)),
            field_name="Counterfeit",
            certify=False,
        )


def test_a_re_saved_copy_is_invalid(client: FlaskClient, issued: dict[str, Any]) -> None:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(issued["pdf"])
    out = io.BytesIO()
    document.save(out)
    document.close()
    assert out.getvalue() != issued["pdf"]
    assert _upload(client, out.getvalue()).get_json()["status"] == "invalid"


# --- what the upload endpoint refuses -------------------------------------------


def test_uploads_that_cannot_be_certificates_are_refused(client: FlaskClient) -> None:
    not_pdf = _upload(client, b"GIF89a not a pdf")
    assert not_pdf.status_code == 400
    assert "file" in not_pdf.get_json()["error"]["fields"]
    broken = _upload(client, b"%PDF-1.7\n" + b"\x00" * 200)
    assert broken.status_code == 400
    assert broken.get_json()["error"]["fields"]["file"] == "is not a readable PDF document"
    # a raw body: the test client would spool a file this large to a temporary file
    too_big = client.post(
        "/api/v1/verify",
        data=b"--x\r\n" + b"0" * (5 * 1024 * 1024 + 1),
        content_type="multipart/form-data; boundary=x",
    )
    assert too_big.status_code == 413
    assert too_big.get_json()["error"]["code"] == "payload_too_large"


def test_a_pdf_declaring_many_pages_is_refused_fast(client: FlaskClient) -> None:
    from pyhanko.pdf_utils.writer import PdfFileWriter

    writer = PdfFileWriter()
    pages = writer.root["/Pages"]
    pages[generic.NameObject("/Count")] = generic.NumberObject(1_000_000)
    out = io.BytesIO()
    writer.write(out)
    response = _upload(client, out.getvalue())
    assert response.status_code == 413
    assert "pages" in response.get_json()["error"]["fields"]["file"]


# --- an operator's own CA -------------------------------------------------------


def _write_chain(directory: Path) -> tuple[Path, Path, Path, x509.Certificate]:
    now = datetime.now(UTC) - timedelta(minutes=1)
    root_key, root = create_root_ca(now)
    key, certificate = issue_signer_certificate(root_key, root, now)
    key_file, cert_file, chain_file = (
        directory / "signer-key.pem",
        directory / "signer.pem",
        directory / "chain.pem",
    )
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"operator-secret"),
        )
    )
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    chain_file.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file, chain_file, root


def test_an_operator_configured_ca_signs_instead(
    tmp_path: Path, app_config: dict[str, Any]
) -> None:
    from certificate import close_app, create_app
    from tests.conftest import signup_and_token

    key_file, cert_file, chain_file, root = _write_chain(tmp_path)
    app_config.update(
        PADES_KEY_FILE=str(key_file),
        PADES_CERT_FILE=str(cert_file),
        PADES_CHAIN_FILE=str(chain_file),
        PADES_KEY_PASSWORD="operator-secret",
    )
    app = create_app(app_config)
    with app.app_context():
        db.create_all()
    try:
        client = app.test_client()
        certificate = _issue(app, client, signup_and_token(client))
        assert not (Path(app.instance_path) / "pades").exists()  # no embedded CA made
        assert check_pdf_signature(certificate["pdf"], (root,)).ok
        assert _upload(client, certificate["pdf"]).get_json()["status"] == "valid"
    finally:
        with app.app_context():
            db.drop_all()
        close_app(app)


def test_a_key_that_does_not_match_its_certificate_stops_the_app(
    tmp_path: Path, app_config: dict[str, Any]
) -> None:
    from certificate import create_app
    from certificate.config import ConfigError

    key_file, _, chain_file, _ = _write_chain(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    _, other_cert, _, _ = _write_chain(other)
    app_config.update(
        PADES_KEY_FILE=str(key_file),
        PADES_CERT_FILE=str(other_cert),
        PADES_CHAIN_FILE=str(chain_file),
        PADES_KEY_PASSWORD="operator-secret",
    )
    with pytest.raises(ConfigError, match="does not match"):
        create_app(app_config)
