"""PAdES signatures on certificate PDFs: the issuing certificate, signing, validation.

Every certificate PDF carries a PAdES baseline-B signature (an ISO 32000
signature dictionary with ``/SubFilter /ETSI.CAdES.detached``) made with a
document-signing key whose X.509 certificate chains to a root CA the verifier
trusts.

Where the key and certificates come from (:class:`PadesSource`):

* **Embedded default** — on first use the service creates, in
  ``<instance>/pades/``, its own root CA (``root.pem``, key ``root-key.pem``)
  and an issuing certificate signed by it (``signer.pem``: key and
  certificate). The issuing certificate is renewed from the root when it
  would expire before a certificate signed today does, so a PDF's signature
  stays checkable for the PDF's whole life.
* **A real CA** — ``IPC_PADES_KEY_FILE`` (PEM private key),
  ``IPC_PADES_CERT_FILE`` (its certificate), ``IPC_PADES_CHAIN_FILE`` (the
  intermediates and root, PEM, concatenated), optional
  ``IPC_PADES_KEY_PASSWORD`` and ``IPC_PADES_TRUST_FILE`` (the trust anchors
  to validate against; default: the self-signed certificates in the chain).

Validation (:func:`check_pdf_signature`) needs no database: only the PDF and
the trust anchors, so the offline verifier uses it too.
"""

from __future__ import annotations

import io
import os
import secrets
import shutil
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509.oid import NameOID

from certificate.config import ConfigError

#: The signature field's name in every certificate PDF.
FIELD_NAME = "IPCSignature"
#: The document-information key holding the QR content (``{base_url}/v#{token}``),
#: so that software can read the token without decoding the printed QR code.
VERIFY_URL_INFO_KEY = "/IPCVerifyURL"

ROOT_VALIDITY = timedelta(days=365 * 25)
SIGNER_VALIDITY = timedelta(days=365 * 5)
#: An issuing certificate must outlive the certificates it signs by this much.
RENEWAL_MARGIN = timedelta(days=30)
ORGANISATION = "International Police Certificate service"


class PadesConfigError(ConfigError):
    """The configured key or certificates cannot be used; the message names the setting."""


@dataclass(frozen=True)
class PadesCredentials:
    """A signing key, its certificate, and the chain up to (and including) the root."""

    key: PrivateKeyTypes
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]


# --------------------------------------------------------------------------
# Certificates for the embedded default


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def create_root_ca(now: datetime) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A self-signed root CA (P-256) allowed only to sign one level of certificates."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(f"IPC Root CA {secrets.token_hex(4).upper()}")
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + ROOT_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def issue_signer_certificate(
    root_key: PrivateKeyTypes, root: x509.Certificate, now: datetime
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A document-signing certificate under ``root``: digitalSignature and nonRepudiation."""
    if not isinstance(root_key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise PadesConfigError("the root CA key must be an EC or RSA key")
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name("IPC Certificate Signing"))
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(min(now + SIGNER_VALIDITY, root.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,  # nonRepudiation
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
        .sign(root_key, hashes.SHA256())
    )
    return key, certificate


def _pem_key(key: PrivateKeyTypes) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _pem_cert(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (mode 0600) atomically: a temporary file, then a rename."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _load_key(data: bytes, password: bytes | None, setting: str) -> PrivateKeyTypes:
    try:
        return serialization.load_pem_private_key(data, password=password)
    except (ValueError, TypeError) as exc:
        raise PadesConfigError(f"{setting}: not a usable PEM private key ({exc})") from exc


def _load_certs(data: bytes, setting: str) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise PadesConfigError(f"{setting}: no PEM certificate could be read ({exc})") from exc


def _self_signed(certificate: x509.Certificate) -> bool:
    return certificate.issuer == certificate.subject


class PadesSource:
    """Loads the signing credentials and trust anchors: configured files, or the embedded CA.

    Thread-safe; the embedded CA is created once, atomically, even when
    several processes start at the same time.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        key_file: str | None = None,
        cert_file: str | None = None,
        chain_file: str | None = None,
        trust_file: str | None = None,
        key_password: str | None = None,
    ) -> None:
        self.directory = Path(directory)
        self._lock = threading.Lock()
        self._credentials: PadesCredentials | None = None
        self._roots: tuple[x509.Certificate, ...] | None = None
        self._configured = bool(key_file or cert_file)
        if self._configured:
            self._credentials, self._roots = self._load_configured(
                key_file, cert_file, chain_file, trust_file, key_password
            )

    @classmethod
    def from_config(cls, config: dict[str, Any], instance: Path) -> PadesSource:
        """Build from ``IPC_PADES_*`` settings; the embedded CA when none is set."""

        def setting(name: str) -> str | None:
            value = config.get(name)
            return str(value) if value else None

        return cls(
            instance / "pades",
            key_file=setting("PADES_KEY_FILE"),
            cert_file=setting("PADES_CERT_FILE"),
            chain_file=setting("PADES_CHAIN_FILE"),
            trust_file=setting("PADES_TRUST_FILE"),
            key_password=setting("PADES_KEY_PASSWORD"),
        )

    # configured files ------------------------------------------------------

    @staticmethod
    def _load_configured(
        key_file: str | None,
        cert_file: str | None,
        chain_file: str | None,
        trust_file: str | None,
        key_password: str | None,
    ) -> tuple[PadesCredentials, tuple[x509.Certificate, ...]]:
        if not (key_file and cert_file):
            raise PadesConfigError(
                "IPC_PADES_KEY_FILE and IPC_PADES_CERT_FILE must be set together"
            )
        try:
            key_data = Path(key_file).read_bytes()
            cert_data = Path(cert_file).read_bytes()
            chain_data = Path(chain_file).read_bytes() if chain_file else b""
            trust_data = Path(trust_file).read_bytes() if trust_file else b""
        except OSError as exc:
            raise PadesConfigError(f"IPC_PADES_*: cannot read {exc.filename}: {exc}") from exc
        password = key_password.encode() if key_password else None
        key = _load_key(key_data, password, "IPC_PADES_KEY_FILE")
        certificate = _load_certs(cert_data, "IPC_PADES_CERT_FILE")[0]
        chain = tuple(_load_certs(chain_data, "IPC_PADES_CHAIN_FILE")) if chain_data else ()
        public = certificate.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        own = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        if public != own:
            raise PadesConfigError("IPC_PADES_KEY_FILE does not match IPC_PADES_CERT_FILE")
        if trust_data:
            roots = tuple(_load_certs(trust_data, "IPC_PADES_TRUST_FILE"))
        else:
            roots = tuple(c for c in (*chain, certificate) if _self_signed(c))
        if not roots:
            raise PadesConfigError(
                "no trust anchor: put the root in IPC_PADES_CHAIN_FILE or set IPC_PADES_TRUST_FILE"
            )
        return PadesCredentials(key, certificate, chain), roots

    # the embedded CA -------------------------------------------------------

    def _root(self, now: datetime) -> tuple[PrivateKeyTypes, x509.Certificate]:
        """The embedded root, created on first use (a directory rename makes it atomic)."""
        root_pem, root_key = self.directory / "root.pem", self.directory / "root-key.pem"
        if not root_pem.exists():
            self.directory.parent.mkdir(parents=True, exist_ok=True)
            staging = self.directory.with_name(f".pades-{secrets.token_hex(4)}")
            staging.mkdir(mode=0o700)
            new_key, new_root = create_root_ca(now)
            _write_private(staging / "root-key.pem", _pem_key(new_key))
            (staging / "root.pem").write_bytes(_pem_cert(new_root))
            try:
                staging.rename(self.directory)
            except OSError:  # another process won the race: use its root
                shutil.rmtree(staging, ignore_errors=True)
        key = _load_key(root_key.read_bytes(), None, str(root_key))
        return key, _load_certs(root_pem.read_bytes(), str(root_pem))[0]

    def _embedded(self, now: datetime, outlive: timedelta) -> PadesCredentials:
        root_key, root = self._root(now)
        signer_path = self.directory / "signer.pem"
        if signer_path.exists():
            data = signer_path.read_bytes()
            stored_key = _load_key(data, None, str(signer_path))
            stored = _load_certs(data, str(signer_path))[0]
            if stored.not_valid_after_utc >= now + outlive + RENEWAL_MARGIN:
                return PadesCredentials(stored_key, stored, (root,))
        new_key, new_certificate = issue_signer_certificate(root_key, root, now)
        _write_private(signer_path, _pem_key(new_key) + _pem_cert(new_certificate))
        return PadesCredentials(new_key, new_certificate, (root,))

    # public ----------------------------------------------------------------

    def credentials(self, now: datetime, outlive: timedelta = timedelta(0)) -> PadesCredentials:
        """The key and certificates to sign with at ``now``.

        For the embedded CA, the issuing certificate is renewed when it would
        expire within ``outlive`` (the life of the certificate being signed).
        """
        with self._lock:
            if self._configured:
                assert self._credentials is not None  # noqa: S101 - set in __init__
                return self._credentials
            current = self._credentials
            if current is None or current.certificate.not_valid_after_utc < (
                now + outlive + RENEWAL_MARGIN
            ):
                current = self._credentials = self._embedded(now, outlive)
            return current

    def trust_roots(self, now: datetime) -> tuple[x509.Certificate, ...]:
        """The root certificates a PDF's signature may chain to.

        With a configured CA: its trust anchors, plus the embedded root if one
        was ever created here, so PDFs signed before the switch still verify.
        """
        with self._lock:
            if self._roots is None:
                self._roots = (self._root(now)[1],)
            if self._configured and (self.directory / "root.pem").exists():
                embedded = _load_certs((self.directory / "root.pem").read_bytes(), "root.pem")
                return (*self._roots, *embedded)
            return self._roots


# --------------------------------------------------------------------------
# Signing


def _asn1_cert(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def sign_pdf(
    pdf: bytes,
    credentials: PadesCredentials,
    *,
    verify_url: str | None = None,
    field_name: str = FIELD_NAME,
    certify: bool = True,
) -> bytes:
    """Sign ``pdf`` (PAdES baseline B, SHA-256) as an incremental update; return the new bytes.

    ``verify_url``, when given, is also written into the document information
    dictionary under :data:`VERIFY_URL_INFO_KEY`, inside the signed revision.
    ``certify`` makes it a certification (DocMDP, no changes permitted)
    signature, which must be a document's first.
    """
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    if verify_url:
        info_ref = writer.trailer.raw_get("/Info")
        if isinstance(info_ref, generic.IndirectObject):
            info = info_ref.get_object()
            info[generic.NameObject(VERIFY_URL_INFO_KEY)] = generic.TextStringObject(verify_url)
            writer.update_container(info)
    signer, reserved = _prepared_signer(credentials)
    metadata = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason="Issued by the International Police Certificate service",
        # A certification signature allowing no changes: any later revision is a modification.
        certify=certify,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
    )
    output = io.BytesIO()
    signers.sign_pdf(writer, metadata, signer=signer, output=output, bytes_reserved=reserved)
    return output.getvalue()


_PREPARED: dict[bytes, tuple[Any, int]] = {}
_PREPARED_LOCK = threading.Lock()


def _prepared_signer(credentials: PadesCredentials) -> tuple[Any, int]:
    """pyHanko's signer for ``credentials``, and the room its signature takes in the PDF.

    Both depend on the credentials alone, so they are made once per signing
    certificate. Left to itself, pyHanko finds the room by signing a dummy
    digest before every real signature: a third of each signing's time. The
    room is found the same way, once, with pyHanko's own margin.
    """
    fingerprint = credentials.certificate.fingerprint(hashes.SHA256())
    with _PREPARED_LOCK:
        found = _PREPARED.get(fingerprint)
    if found is not None:
        return found
    import asyncio

    from pyhanko.sign import signers
    from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    key_der = credentials.key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    signer = signers.SimpleSigner(
        signing_cert=_asn1_cert(credentials.certificate),
        signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
        cert_registry=SimpleCertificateStore.from_certs([_asn1_cert(c) for c in credentials.chain]),
    )
    dummy = signer.async_sign(
        hashes.Hash(hashes.SHA256()).finalize(),
        "sha256",
        dry_run=True,
        use_pades=True,
        signed_attr_settings=PdfCMSSignedAttributes(signing_time=datetime.now().astimezone()),
    )
    hex_length = 2 * len(asyncio.run(dummy).dump())  # the signature is written in hex
    prepared = (signer, hex_length + 2 * (hex_length // 4))  # pyHanko's margin: half again
    with _PREPARED_LOCK:
        if len(_PREPARED) > 8:  # renewed certificates: keep the map small
            _PREPARED.clear()
        return _PREPARED.setdefault(fingerprint, prepared)


# --------------------------------------------------------------------------
# Validation


@dataclass(frozen=True)
class PadesReport:
    """What the PDF's signature says.

    ``ok`` holds only for exactly one signature that is intact (the signed
    bytes are unchanged), cryptographically valid, made by a certificate
    chaining to a trust anchor, and covering the whole file (nothing was
    appended after signing).
    """

    signatures: int
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    whole_file: bool = False
    signer: str | None = None
    signed_at: datetime | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        """True when the PDF is exactly what the signer signed, and the signer is trusted."""
        return (
            self.signatures == 1
            and self.intact
            and self.valid
            and self.trusted
            and self.whole_file
            and self.problem is None
        )


def _status_report(
    embedded: Any, signatures: int, roots: tuple[x509.Certificate, ...]
) -> PadesReport:
    from pyhanko.sign.validation import SignatureCoverageLevel, validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    context = ValidationContext(trust_roots=[_asn1_cert(root) for root in roots])
    status = validate_pdf_signature(embedded, context)
    signer = status.signing_cert.subject.human_friendly if status.signing_cert else None
    return PadesReport(
        signatures=signatures,
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        signer=signer,
        signed_at=status.signer_reported_dt,
    )


#: Bounds on what an uploaded PDF may decode to. A certificate decodes to well under a
#: megabyte; a "bomb" (a small file whose streams, object streams above all, inflate to
#: gigabytes) stops at these limits with an error instead of exhausting memory.
UPLOAD_DECODE_LIMITS_MIB = 16


def _upload_decode_limits() -> Any:
    from pyhanko.pdf_utils.decode_limits import (
        DecodeLimits,
        DocumentDecodeBudget,
        StreamDecodeLimits,
    )

    mib = 1024 * 1024
    cap = UPLOAD_DECODE_LIMITS_MIB * mib
    return DecodeLimits(
        per_stream=StreamDecodeLimits(max_ratio=200, ratio_floor=mib, max_output_size=cap),
        document_budget=DocumentDecodeBudget(base_allowance=cap, max_ratio=4),
    )


def read_pdf(pdf: bytes) -> Any:
    """Open ``pdf`` with pyHanko's reader (lenient, with bounded decoding), or raise ValueError.

    Whatever a hostile file makes the parser raise (a structure nested past the
    recursion limit, a reference loop, a stream over the decode limits) is a
    ValueError here: the caller answers "not a readable PDF".
    """
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        return PdfFileReader(io.BytesIO(pdf), strict=False, decode_limits=_upload_decode_limits())
    except Exception as exc:  # a hostile PDF may break the parser in many ways
        raise ValueError(f"not a readable PDF: {type(exc).__name__}") from exc


def page_count(reader: Any) -> int:
    """The page count the document's page tree declares (read without walking the tree).

    Raises ValueError unless it is a whole number of at least one; resolving it may
    meet a reference loop or a malformed object, which is a ValueError too.
    """
    from pyhanko.pdf_utils.generic import NumberObject

    try:
        count = reader.root["/Pages"]["/Count"]
    except Exception as exc:  # KeyError, PdfReadError, RecursionError on a loop ...
        raise ValueError("the PDF has no readable page tree") from exc
    if not isinstance(count, NumberObject) or count < 1:
        raise ValueError("the PDF's page count is not a whole number")
    return int(count)


def check_pdf_signature(pdf: bytes, roots: tuple[x509.Certificate, ...]) -> PadesReport:
    """Validate the PAdES signature of ``pdf`` against ``roots``; never raises on bad input."""
    try:
        reader = read_pdf(pdf)
        signatures = list(reader.embedded_signatures)
    except Exception as exc:  # a hostile PDF may break the parser in many ways
        return PadesReport(0, problem=f"unreadable: {type(exc).__name__}")
    if not signatures:
        return PadesReport(0, problem="the PDF is not signed")
    try:
        report = _status_report(signatures[-1], len(signatures), roots)
    except Exception as exc:  # malformed signature dictionaries and CMS blobs
        return PadesReport(len(signatures), problem=f"signature unreadable: {type(exc).__name__}")
    if len(signatures) != 1:
        return PadesReport(
            len(signatures),
            report.intact,
            report.valid,
            report.trusted,
            report.whole_file,
            report.signer,
            report.signed_at,
            problem="more than one signature: the PDF was signed again",
        )
    return report


def embedded_verify_url(pdf: bytes) -> str | None:
    """The QR content recorded in the document information at issuance, if any."""
    try:
        info = read_pdf(pdf).trailer_view["/Info"]
        value = info.get(VERIFY_URL_INFO_KEY)
    except Exception:  # hostile input; absence is the answer
        return None
    return str(value) if value is not None else None
