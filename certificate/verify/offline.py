"""The offline verifier: check a certificate with the published key set and no database.

What it checks:

* the token's signature, with the key its header names (``kid``) taken from
  the given JWKS — never key material from the token — and the algorithm
  ``EdDSA`` only;
* the expiry (``exp``);
* for a PDF: the token recorded in the PDF at issuance (document information
  key ``/IPCVerifyURL``, the QR code's content), and the PAdES signature when
  the PDF carries one: intact, covering the whole file, and — when trust
  anchors are given — made under one of them.

What it cannot check: whether the certificate was revoked or superseded since
it was issued. Every result says so (:data:`STATUS_NOT_CHECKED`); the online
``POST /api/v1/verify`` answers that.

It prints the holder as the certificate's QR code names them: in the form a
passport's machine-readable zone writes the name (``OKAFOR<<ADA<CHIOMA``). Given
the full name from the holder's identity document (``--family-name``,
``--given-names``), it also says whether that is the name the certificate binds
(:func:`check_name`).

Usable as a library (:func:`verify_offline`) and from the command line
(``flask --app wsgi certificates verify PDF|TOKEN --jwks FILE|URL``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from certificate.issuance.claims import holder_name, name_matches
from certificate.issuance.i18n import outcome_phrase
from certificate.issuance.summary import claim_outcomes, summary_of_claims, summary_sentence
from certificate.signing import jws
from certificate.signing.keys import ALGORITHM
from certificate.signing.pades import check_pdf_signature, embedded_verify_url
from country_adapters.countries import country_name

STATUS_NOT_CHECKED = (
    "Revocation and supersession were not checked: this verification used no "
    "connection to the issuing service. Ask POST /api/v1/verify for the current status."
)
PDF_MAGIC = b"%PDF-"
#: The largest JWKS document accepted from a file or URL.
MAX_JWKS_BYTES = 1024 * 1024


class JwksError(Exception):
    """The key set could not be read or is not a JWKS."""


@dataclass(frozen=True)
class OfflineResult:
    """The offline verdict.

    ``status`` is ``valid`` (genuine and not expired), ``expired`` or
    ``invalid``; ``claims`` is None for an invalid certificate (nothing
    unverified is echoed). ``pdf_signature`` is None for a bare token,
    else ``valid``, ``absent``, or ``invalid: <why>``.
    ``status_checked`` is always False: revocation needs the online check.
    """

    status: str
    reason: str
    claims: dict[str, Any] | None = None
    kid: str | None = None
    pdf_signature: str | None = None
    pdf_signer: str | None = None
    status_checked: bool = False
    notice: str = field(default=STATUS_NOT_CHECKED)
    #: Whether the full name the verifier typed is the one the certificate binds
    #: (see :func:`check_name`); None when no name was given.
    name_matches: bool | None = None

    @property
    def valid(self) -> bool:
        """Genuine and unexpired, as far as can be told offline."""
        return self.status == "valid"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view (used by the CLI's ``--json``)."""
        return {
            "valid": self.valid,
            "authentic": self.valid,
            "status": self.status,
            "reason": self.reason,
            "summary": summary_of_claims(self.claims),
            "certificate": self.claims,
            "kid": self.kid,
            "pdf_signature": self.pdf_signature,
            "pdf_signer": self.pdf_signer,
            "status_checked": self.status_checked,
            "notice": self.notice,
            "name_matches": self.name_matches,
        }


def report_lines(result: OfflineResult) -> list[str]:
    """The verdict as the command line prints it: the status, then the summary in words,
    then every country's outcome, so that "valid" is never read alone."""
    claims = result.claims or {}
    lines = [f"status: {result.status}", f"reason: {result.reason}"]
    if claims:
        lines += [
            f"certificate: {claims.get('jti')}",
            f"holder: {holder_name(claims)}",
            f"date of birth: {claims.get('dob')}",
        ]
        if result.name_matches is not None:
            lines.append(
                "name given: matches the certificate"
                if result.name_matches
                else "name given: does NOT match the certificate"
            )
        if claims.get("spc"):
            lines.append("specimen: yes (no legal value)")
        outcomes = claim_outcomes(claims) or {}
        lines.append(f"summary: {summary_sentence(outcomes.values(), 'en')}")
        lines.append("countries:")
        lines += [
            f"  {code} {country_name(code)}: {outcome_phrase('en', outcome)}"
            for code, outcome in outcomes.items()
        ]
    if result.pdf_signature is not None:
        lines.append(f"PDF signature: {result.pdf_signature}")
    lines.append(f"not checked: {result.notice}")
    return lines


def _invalid(reason: str, pdf_signature: str | None = None) -> OfflineResult:
    return OfflineResult("invalid", reason, pdf_signature=pdf_signature)


# --------------------------------------------------------------------------
# Key set


def load_jwks(source: str, *, timeout: float = 10.0) -> dict[str, Any]:
    """Read a JWKS from a file path or an ``http(s)://`` URL.

    Raises:
        JwksError: unreadable, too large, or not ``{"keys": [...]}``.
    """
    if source.startswith(("https://", "http://")):
        import httpx

        try:
            response = httpx.get(source, timeout=timeout, follow_redirects=False)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise JwksError(f"cannot fetch the key set from {source}: {exc}") from exc
        raw = response.content
    else:
        try:
            raw = Path(source).read_bytes()
        except OSError as exc:
            raise JwksError(f"cannot read the key set file {source}: {exc}") from exc
    if len(raw) > MAX_JWKS_BYTES:
        raise JwksError("the key set is too large")
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise JwksError("the key set is not JSON") from exc
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise JwksError('the key set is not a JWKS ({"keys": [...]})')
    return document


def _public_key(jwks: Mapping[str, Any], kid: str) -> Ed25519PublicKey | None:
    """The Ed25519 key with this ``kid``, or None (unknown kid, or not an EdDSA key)."""
    for entry in jwks.get("keys", []):
        if not isinstance(entry, dict) or entry.get("kid") != kid:
            continue
        if entry.get("kty") != "OKP" or entry.get("crv") != "Ed25519":
            return None
        if entry.get("alg", ALGORITHM) != ALGORITHM:
            return None
        try:
            raw = base64.urlsafe_b64decode(str(entry["x"]) + "=" * (-len(str(entry["x"])) % 4))
            return Ed25519PublicKey.from_public_bytes(raw)
        except (KeyError, ValueError):
            return None
    return None


# --------------------------------------------------------------------------
# Verification


def token_from_verify_url(value: str) -> str:
    """The token in a QR content ``{base_url}/v#{token}`` (or the value itself)."""
    return value.split("#", 1)[1] if "#" in value else value


def _verify_token(
    token: str, jwks: Mapping[str, Any], now: datetime, issuer: str | None
) -> OfflineResult:
    try:
        kid = jws.unverified_kid(token)
    except jws.InvalidToken:
        return _invalid("The token is malformed or not signed with EdDSA.")
    public_key = _public_key(jwks, kid)
    if public_key is None:
        return _invalid("The token names a key that is not in the key set.")
    try:
        claims = jws.verify(token, public_key, typ=jws.CERTIFICATE_TYP)
    except jws.InvalidToken:
        return _invalid("The token's signature does not verify.")
    if issuer is not None and claims.get("iss") != issuer:
        return _invalid("The token was not issued by the expected issuer.")
    try:
        expires = int(claims["exp"])
    except (KeyError, TypeError, ValueError):
        return _invalid("The token has no usable expiry.")
    if expires <= now.timestamp():
        return OfflineResult("expired", "The certificate has expired.", claims, kid)
    return OfflineResult(
        "valid",
        "The document's signature is genuine and it has not expired. "
        "Whether it shows a record is said in its summary.",
        claims,
        kid,
    )


def _verify_pdf(
    pdf: bytes,
    jwks: Mapping[str, Any],
    now: datetime,
    issuer: str | None,
    trust_roots: tuple[x509.Certificate, ...] | None,
) -> OfflineResult:
    report = check_pdf_signature(pdf, trust_roots or ())
    if report.signatures == 0 and report.problem and report.problem.startswith("unreadable"):
        return _invalid("The file is not a readable PDF.", "invalid: unreadable")
    signature = "absent"
    if report.signatures:
        if not (report.intact and report.valid and report.whole_file) or report.signatures != 1:
            why = report.problem or (
                "changed after signing" if not report.whole_file else "signature does not verify"
            )
            return _invalid("The PDF was altered after it was signed.", f"invalid: {why}")
        if trust_roots is not None and not report.trusted:
            return _invalid(
                "The PDF was not signed under a trusted root.", "invalid: untrusted signer"
            )
        signature = "valid" if trust_roots is not None else "valid (signer's chain not checked)"
    verify_url = embedded_verify_url(pdf)
    if not verify_url:
        return _invalid("No certificate token was found in the PDF.", signature)
    result = _verify_token(token_from_verify_url(verify_url), jwks, now, issuer)
    return OfflineResult(
        result.status,
        result.reason,
        result.claims,
        result.kid,
        pdf_signature=signature,
        pdf_signer=report.signer,
    )


def verify_offline(
    token_or_pdf: str | bytes,
    jwks: Mapping[str, Any],
    *,
    now: datetime | None = None,
    issuer: str | None = None,
    trust_roots: tuple[x509.Certificate, ...] | None = None,
) -> OfflineResult:
    """Verify a token (or QR content), or a certificate PDF, against ``jwks`` alone.

    ``trust_roots``: PEM-loaded root certificates for the PDF's PAdES
    signature; None checks the signature's integrity but not its chain.
    ``issuer``: the expected ``iss`` claim, when known.
    """
    moment = now or datetime.now(UTC)
    if isinstance(token_or_pdf, bytes):
        if token_or_pdf.startswith(PDF_MAGIC):
            return _verify_pdf(token_or_pdf, jwks, moment, issuer, trust_roots)
        try:
            token_or_pdf = token_or_pdf.decode("ascii")
        except UnicodeDecodeError:
            return _invalid("This is neither a PDF nor a token.")
    return _verify_token(token_from_verify_url(token_or_pdf.strip()), jwks, moment, issuer)


def check_name(result: OfflineResult, family_name: str, given_names: str) -> OfflineResult:
    """``result`` with ``name_matches`` set: whether this full name (in any script, as on
    the holder's identity document) is the one the certificate's claims bind. The QR code
    carries the name's MRZ form and a digest of the full name, not the full name itself."""
    if result.claims is None:
        return result
    matches = name_matches(result.claims, family_name, given_names)
    return replace(result, name_matches=bool(matches) if matches is not None else None)


def load_trust_roots(path: str) -> tuple[x509.Certificate, ...]:
    """Root certificates (PEM, one or more) for checking a PDF's signer."""
    return tuple(x509.load_pem_x509_certificates(Path(path).read_bytes()))
