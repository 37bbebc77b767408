"""Verification: is this certificate genuine, and does it still stand?

Three ways in (the QR token, the typed number with a date of birth, the PDF
itself) and one answer. An answer about an invalid or unknown certificate
echoes nothing of what was sent.

Every verification of a known certificate is recorded for its holder
(:class:`~certificate.issuance.models.CertificateVerification`): when, how,
the result, and the verifier's organisation only if they chose to give it.

The path is read-only: one indexed Core ``SELECT`` outside any transaction
(:mod:`certificate.verify.lookup`), the signature checked against keys held
in memory, and the history row buffered and written in batches within a
second (:mod:`certificate.verify.history`).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import wraps
from typing import Any, TypeVar, cast

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from prometheus_client import Counter
from sqlalchemy import CursorResult, select, update

from certificate.audit import AuditEvent, lock_chain
from certificate.db import DbSession
from certificate.issuance.claims import normalise_certificate_id
from certificate.issuance.models import CertificateStatus, CertificateVerification
from certificate.issuance.summary import summary_of_claims
from certificate.observability import VERIFICATION_SECONDS, VERIFICATIONS, timed
from certificate.retention import dob_matches
from certificate.signing import jws
from certificate.signing.keys import ALGORITHM
from certificate.signing.pades import check_pdf_signature, page_count, read_pdf
from certificate.signing.token_macs import TokenMacKeys, vouches
from certificate.verify.history import HistoryBuffer, seal_batch, verifications_digest
from certificate.verify.lookup import CertificateReader, CertificateRecord

#: The longest certificate (twenty countries with fifty records each) runs to a few dozen
#: pages; anything much longer is refused before any real work.
MAX_PDF_PAGES = 100
#: Longest organisation name a verifier may give.
MAX_ORGANISATION = 200


class UnreadablePdf(Exception):
    """The upload is not a PDF this service can read."""


class TooManyPages(Exception):
    """The upload has far more pages than a certificate."""


REASONS = {
    "valid": (
        "The document is genuine and in force. Whether it shows a record is said in its summary."
    ),
    "revoked": "The certificate has been revoked by the issuing service.",
    "expired": "The certificate has expired.",
    "superseded": "The certificate has been replaced by a newer one; ask the holder for it.",
    "invalid": "This is not a genuine certificate from this service, or it has been altered.",
    "unknown": "No certificate matches this number and date of birth.",
}


@dataclass(frozen=True)
class Verification:
    """The answer given to a verifier."""

    status: str
    claims: dict[str, Any] | None = None
    #: The holder's full names, read from the database (never from the token): the QR
    #: carries only their MRZ form and a digest. Given with the claims, never without.
    holder: dict[str, Any] | None = None

    def holder_line(self) -> str | None:
        """The full name as one line, given names first; None when not known."""
        if self.holder is None or self.claims is None:
            return None
        line = " ".join(
            part for part in (self.holder["given_names"], self.holder["family_name"]) if part
        )
        return line or None

    @property
    def valid(self) -> bool:
        """True only for a genuine certificate in force."""
        return self.status == "valid"

    def as_dict(self) -> dict[str, Any]:
        """The contract's response body."""
        return {
            "valid": self.valid,
            "authentic": self.valid,  # the document: genuine and in force, nothing about records
            "status": self.status,
            "reason": REASONS[self.status],
            "summary": summary_of_claims(self.claims),
            "certificate": self.claims,
            "holder": self.holder if self.claims is not None else None,
        }


INVALID = Verification("invalid")
UNKNOWN = Verification("unknown")


class VerificationKeys:
    """Verification keys by ``kid``, in memory: all of them loaded at start-up, a key
    created later (by another process's rotation) read once on first sight."""

    def __init__(self, reader: CertificateReader) -> None:
        self._reader = reader
        self._cache: dict[str, Ed25519PublicKey] = {}

    def load(self) -> int:
        """Read every signing key now; returns how many are held."""
        for kid, algorithm, jwk in self._reader.signing_keys():
            self._remember(kid, algorithm, jwk)
        return len(self._cache)

    def _remember(self, kid: str, algorithm: str, jwk: dict[str, str]) -> Ed25519PublicKey | None:
        if algorithm != ALGORITHM:
            return None
        key = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(jwk["x"] + "=="))
        self._cache[kid] = key
        return key

    def get(self, kid: str) -> Ed25519PublicKey | None:
        """The public key for ``kid``, or None for a key this service never published."""
        key = self._cache.get(kid)
        if key is None:
            found = self._reader.signing_key(kid)
            if found is not None:
                key = self._remember(kid, *found)
        return key


@dataclass
class Verifier:
    """What every verification needs, built once per process (see ``certificate.runtime``)."""

    reader: CertificateReader
    keys: VerificationKeys
    history: HistoryBuffer
    #: the keys of the MACs that vouch for stored tokens
    macs: TokenMacKeys


def _clean_organisation(organisation: str | None) -> str | None:
    if organisation is None:
        return None
    cleaned = " ".join(organisation.split())[:MAX_ORGANISATION]
    return cleaned or None


def _status_of(
    verifier: Verifier,
    certificate: CertificateRecord,
    claims: dict[str, Any] | None,
    now: datetime,
    method: str,
    organisation: str | None = None,
) -> Verification:
    status = certificate.status_at(now).value
    # No write on the request path: the row is buffered and written within a second,
    # with its neighbours, in one statement and one transaction that also seals them into
    # the hash-chained audit log (certificate/verify/history.py).
    verifier.history.record(certificate.id, now, method, status, _clean_organisation(organisation))
    return Verification(status, claims, certificate.holder() if claims is not None else None)


def chain_verifications(session: DbSession, limit: int = 1000) -> int:
    """Seal verifications written without an audit event with one event; returns how many.

    The history writer seals every batch it writes in the same transaction
    (:mod:`certificate.verify.history`), so this finds rows only where they
    were written otherwise: by a version of the service that left sealing to
    the sweeper, or by hand. Its event is the writer's (how many, the first
    and last row, a SHA-256 of the rows' content), and ``audit verify``
    recomputes the digest alike (:func:`verifications_problem`).
    """
    table = CertificateVerification.__table__
    lock_chain(session)  # before reading: two sweepers must never seal the same rows
    pending = session.execute(
        select(table).where(table.c.audit_event_id.is_(None)).order_by(table.c.id).limit(limit)
    ).all()
    if not pending:
        return 0
    first, last = pending[0].id, pending[-1].id
    event = seal_batch(session, [row._mapping for row in pending])
    # By range, one statement whatever the batch's size: a list of a thousand ids costs
    # more to compile than the rows cost to update. A row committed meanwhile inside the
    # range (ids are drawn before their transactions commit) would be sealed unread: the
    # count says so, and the batch is then marked row by row instead.
    row = CertificateVerification
    unsealed = row.audit_event_id.is_(None)

    def mark(*where: Any, event_id: int | None) -> int:
        marking = update(row).where(*where).values(audit_event_id=event_id)
        done = session.execute(marking.execution_options(synchronize_session=False))
        return int(cast(CursorResult[Any], done).rowcount)

    if mark(row.id.between(first, last), unsealed, event_id=event.id) != len(pending):
        mark(row.id.between(first, last), row.audit_event_id == event.id, event_id=None)
        mark(row.id.in_([found.id for found in pending]), unsealed, event_id=event.id)
    return len(pending)


def verifications_problem(session: DbSession, event: AuditEvent) -> str | None:
    """What is wrong with the verification rows a batch event seals (None when intact)."""
    table = CertificateVerification.__table__
    rows = session.execute(
        select(table).where(table.c.audit_event_id == event.id).order_by(table.c.id)
    ).all()
    if len(rows) != event.details.get("count") or (
        verifications_digest(row._mapping for row in rows) != event.details.get("sha256")
    ):
        return "the verifications it seals were changed or deleted"
    return None


F = TypeVar("F", bound=Callable[..., Verification])


def _measured(method: str) -> Callable[[F], F]:
    """Count each answer by method and status, and time it (Prometheus)."""

    # the method's children looked up once, not on every answer (each lookup takes the
    # metric's lock); one counter per status, added as statuses are first answered
    seconds = VERIFICATION_SECONDS.labels(method=method)
    answered: dict[str, Counter] = {}

    def decorate(function: F) -> F:
        @wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Verification:
            with timed(seconds):
                result = function(*args, **kwargs)
            counter = answered.get(result.status)
            if counter is None:
                counter = answered[result.status] = VERIFICATIONS.labels(
                    method=method, status=result.status
                )
            counter.inc()
            return result

        return cast(F, wrapper)

    return decorate


@_measured("token")
def verify_token(
    verifier: Verifier,
    token: str,
    now: datetime,
    *,
    organisation: str | None = None,
) -> Verification:
    """Verify a QR token: signature by one of our keys, then the certificate's status."""
    try:
        parsed = jws.parse(token)
        public_key = verifier.keys.get(parsed.kid)
        if public_key is None:
            return INVALID
        claims = jws.check(parsed, public_key)
    except jws.InvalidToken:
        return INVALID
    certificate = verifier.reader.by_id(str(claims.get("jti")), token=False)
    if certificate is None:
        # signed by us but unknown: only possible if the record was purged
        return Verification(_expired_or_unknown(claims, now), None)
    return _status_of(verifier, certificate, claims, now, "token", organisation)


def _expired_or_unknown(claims: dict[str, Any], now: datetime) -> str:
    return "expired" if int(claims["exp"]) <= now.timestamp() else "unknown"


@_measured("number")
def verify_number(
    verifier: Verifier,
    certificate_id: str,
    date_of_birth: date | None,
    now: datetime,
    *,
    organisation: str | None = None,
) -> Verification:
    """Verify a typed certificate number; the date of birth must match too.

    A malformed number, an unknown number and a wrong date of birth all give
    the same answer, so the endpoint cannot be used to probe for numbers.
    """
    canonical = normalise_certificate_id(certificate_id)
    certificate = verifier.reader.by_id(canonical) if canonical else None
    if certificate is None or not dob_matches(certificate, date_of_birth):
        return UNKNOWN
    return _stored_certificate(verifier, certificate, now, "number", organisation)


@_measured("pdf")
def verify_pdf(
    verifier: Verifier,
    pdf: bytes,
    now: datetime,
    *,
    trust_roots: tuple[x509.Certificate, ...],
    organisation: str | None = None,
) -> Verification:
    """Verify an uploaded PDF: byte for byte as issued, with an intact PAdES signature, and in force.

    An edited, re-saved or re-signed file no longer matches the hash stored
    at issuance and is ``invalid``; so is a matching file whose signature
    does not validate against ``trust_roots``. A file without any signature
    is accepted only on an exact hash match (certificates issued before PDFs
    were signed).

    Raises:
        UnreadablePdf: the bytes are not a PDF that can be parsed.
        TooManyPages: the PDF declares more than :data:`MAX_PDF_PAGES` pages.
    """
    try:
        pages = page_count(read_pdf(pdf))
    except ValueError as exc:
        raise UnreadablePdf(str(exc)) from exc
    if pages > MAX_PDF_PAGES:
        raise TooManyPages(f"{pages} pages; a certificate has at most {MAX_PDF_PAGES}")
    certificate = verifier.reader.by_pdf_sha256(hashlib.sha256(pdf).hexdigest())
    if certificate is None:
        return INVALID
    report = check_pdf_signature(pdf, trust_roots)
    if report.signatures and not report.ok:
        return INVALID
    return _stored_certificate(verifier, certificate, now, "pdf", organisation)


def _stored_certificate(
    verifier: Verifier,
    certificate: CertificateRecord,
    now: datetime,
    method: str,
    organisation: str | None = None,
) -> Verification:
    """The status of a certificate found in the database, with its signed claims."""
    if certificate.token is None:  # personal data purged: the status, without claims
        return _status_of(verifier, certificate, None, now, method, organisation)
    try:
        claims = _stored_claims(verifier, certificate, certificate.token)
    except jws.InvalidToken:  # a stored token that is not vouched for
        return INVALID
    if claims.get("jti") != certificate.id:  # another certificate's token, moved onto this row
        return INVALID
    return _status_of(verifier, certificate, claims, now, method, organisation)


def _stored_claims(
    verifier: Verifier, certificate: CertificateRecord, token: str
) -> dict[str, Any]:
    """The claims of a certificate's stored token, vouched for by its MAC, or else by its
    signature (certificate/signing/token_macs.py).

    Raises:
        jws.InvalidToken: neither vouches for it, or its claims are not a certificate's.
    """
    parsed = jws.parse(token)
    mac = certificate.token_mac
    mac_key = verifier.macs.get(certificate.kid) if mac else None
    if mac and mac_key is not None and vouches(mac_key, certificate.id, token, mac):
        return jws.check_claims(parsed)
    public_key = verifier.keys.get(certificate.kid)
    if public_key is None:  # pragma: no cover - keys are never deleted
        raise jws.InvalidToken("unknown key")
    return jws.check(parsed, public_key)


@dataclass(frozen=True)
class HistoryRow:
    """One verification of a certificate, as its holder sees it."""

    certificate_id: str
    verified_at: datetime
    method: str
    result: str
    organisation: str | None


def verification_history(
    session: DbSession, buffer: HistoryBuffer, certificate_ids: list[str], *, limit: int = 200
) -> list[HistoryRow]:
    """The latest verifications of the given certificates, newest first (for their holder):
    those written, and those this process still holds in ``buffer``."""
    if not certificate_ids:
        return []
    written = session.scalars(
        select(CertificateVerification)
        .where(CertificateVerification.certificate_id.in_(certificate_ids))
        .order_by(CertificateVerification.verified_at.desc(), CertificateVerification.id.desc())
        .limit(limit)
    )
    rows = [
        HistoryRow(row.certificate_id, row.verified_at, row.method, row.result, row.organisation)
        for row in written
    ]
    wanted = set(certificate_ids)
    waiting = [
        HistoryRow(
            r["certificate_id"], r["verified_at"], r["method"], r["result"], r["organisation"]
        )
        for r in buffer.waiting()
        if r["certificate_id"] in wanted
    ]
    # the buffer is in arrival order, so newest last; a stable sort keeps ties in that order
    merged = waiting[::-1] + rows
    merged.sort(key=lambda row: row.verified_at, reverse=True)
    return merged[:limit]


__all__ = [
    "INVALID",
    "MAX_PDF_PAGES",
    "UNKNOWN",
    "CertificateStatus",
    "HistoryRow",
    "TooManyPages",
    "UnreadablePdf",
    "Verification",
    "VerificationKeys",
    "Verifier",
    "verification_history",
    "verify_number",
    "verify_pdf",
    "verify_token",
]
