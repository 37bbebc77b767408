"""Issuance: once every check is final, sign the claims, render the PDF, store both. Once."""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from certificate.applications.models import Application, ApplicationStatus
from certificate.audit import record_event
from certificate.checks.service import all_final
from certificate.db import DbSession
from certificate.events import announce
from certificate.i18n import cldr
from certificate.issuance.claims import build_claims, check_outcome, new_certificate_id
from certificate.issuance.coverage import UncoveredPeriod, coverage_gaps, gap_months
from certificate.issuance.document import (
    CertificateDocument,
    CountryLine,
    RecordLine,
    UncoveredLine,
)
from certificate.issuance.i18n import labels
from certificate.issuance.models import Certificate
from certificate.issuance.pdf import render_certificate_pdf
from certificate.signing import jws
from certificate.signing.keys import KeyStore, active_key
from certificate.signing.pades import PadesSource, sign_pdf
from certificate.signing.token_macs import derive_key, token_mac
from certificate.storage import FileStore
from country_adapters.countries import country_name


@dataclass(frozen=True)
class IssuanceSettings:
    """What issuance needs from the configuration."""

    base_url: str
    issuer: str
    validity: timedelta
    #: Where the PAdES signing credentials come from; None leaves PDFs unsigned
    #: (only for tests of layout: the running service always sets it).
    pades: PadesSource | None = None


def verify_url(base_url: str, token: str) -> str:
    """The QR content: the token travels in the fragment, which never reaches a server."""
    return f"{base_url}/v#{token}"


PENDING = ".pending"
"""Suffix of a PDF written before its certificate row is committed."""


def pending_pdf_name(certificate_id: str) -> str:
    """Where a new PDF waits until its certificate is committed."""
    return pdf_name(certificate_id) + PENDING


def settle_document(files: FileStore, certificate_id: str) -> None:
    """Give a committed certificate's PDF its final name (safe to call again)."""
    with contextlib.suppress(FileNotFoundError):  # already settled
        files.rename(pending_pdf_name(certificate_id), pdf_name(certificate_id))


def settle_pending_documents(session: DbSession, files: FileStore, older_than: float = 60.0) -> int:
    """After a crash: promote the PDFs of committed certificates, delete the others.

    A PDF is written as ``<id>.pdf.pending`` before its row is committed and
    renamed after, so a crash in between never leaves two documents for one
    application: the sweeper finishes the rename, or removes the orphan.
    """
    settled = 0
    for name, age in files.ages(PENDING).items():
        certificate_id = name.removesuffix(".pdf" + PENDING)
        if session.get(Certificate, certificate_id) is not None:
            settle_document(files, certificate_id)
            settled += 1
        elif age > older_than:
            files.delete(name)
            settled += 1
    return settled


def pdf_name(certificate_id: str) -> str:
    """The storage name of a certificate's PDF."""
    return f"{certificate_id}.pdf"


@dataclass(frozen=True)
class PreparedCertificate:
    """A certificate signed and laid out, before its PDF exists and before anything is stored.

    Issuing in three steps keeps the slow part (rendering and PAdES-signing
    the PDF) out of any database transaction, where on SQLite it would hold
    the single write lock, and every page read behind it, for its duration:
    :func:`prepare_if_ready` (reads), :func:`produce` (no database),
    :func:`record_issuance` (one short write, which first checks that the
    application still owes exactly this certificate).
    """

    certificate_id: str
    generation: int
    kid: str
    token: str
    #: vouches for the stored token (certificate/signing/token_macs.py)
    token_mac: str
    specimen: bool
    issued_at: datetime
    expires_at: datetime
    document: CertificateDocument
    #: the checks as signed: (id, status, outcome); recording refuses if they changed since
    checks: tuple[tuple[str, str, str | None], ...]


def _checks_as_signed(application: Application) -> tuple[tuple[str, str, str | None], ...]:
    return tuple(sorted((c.id, c.status, c.outcome) for c in application.checks))


def _owes_first_certificate(application: Application) -> bool:
    return (
        application.status == ApplicationStatus.IN_PROGRESS.value
        and not application.certificates
        and all_final(application)
    )


def prepare_if_ready(
    session: DbSession,
    application: Application,
    *,
    keys: KeyStore,
    settings: IssuanceSettings,
    now: datetime,
) -> PreparedCertificate | None:
    """The application's first certificate, signed and laid out, if it is owed now."""
    if not _owes_first_certificate(application):
        return None
    return _prepare(session, application, generation=1, keys=keys, settings=settings, now=now)


def record_issuance(
    session: DbSession, application: Application, prepared: PreparedCertificate, pdf: bytes
) -> Certificate | None:
    """Store a produced first certificate, complete the application, audit and announce it.

    None when the application no longer owes it (withdrawn, issued meanwhile by
    another worker, or its checks changed since it was prepared): the caller
    discards the PDF. The ``(application_id, generation)`` unique constraint
    makes a concurrent second issuance fail at commit, so exactly one
    certificate ever exists.
    """
    if not _owes_first_certificate(application) or (
        _checks_as_signed(application) != prepared.checks
    ):
        return None
    certificate = _record(session, application, prepared, pdf)
    application.status = ApplicationStatus.COMPLETE.value
    application.completed_at = prepared.issued_at
    session.flush()
    record_event(
        session,
        actor="system",
        action="certificate.issued",
        subject_type="certificate",
        subject_id=certificate.id,
        details={"application": application.id, "kid": certificate.kid},
        at=prepared.issued_at,
    )
    announce(session, "certificate.issued", certificate=certificate, now=prepared.issued_at)
    return certificate


def _prepare(
    session: DbSession,
    application: Application,
    *,
    generation: int,
    keys: KeyStore,
    settings: IssuanceSettings,
    now: datetime,
) -> PreparedCertificate:
    """Sign the claims and lay out the document (reads only)."""
    certificate_id = new_certificate_id()
    specimen = any(check.specimen for check in application.checks)
    expires_at = now + settings.validity
    key = active_key(session, keys)
    gap = coverage_gaps(application, now.date())
    claims = build_claims(
        application,
        certificate_id,
        settings.issuer,
        now,
        expires_at,
        specimen,
        gap=gap_months(gap, now.date()),
    )
    private_key = keys.private_key(key.kid)
    token = jws.sign(claims, private_key, key.kid, typ=jws.CERTIFICATE_TYP)
    document = build_document(
        application, certificate_id, token, settings.base_url, now, expires_at, specimen, gap
    )
    return PreparedCertificate(
        certificate_id=certificate_id,
        generation=generation,
        kid=key.kid,
        token=token,
        token_mac=token_mac(derive_key(private_key), certificate_id, token),
        specimen=specimen,
        issued_at=now,
        expires_at=expires_at,
        document=document,
        checks=_checks_as_signed(application),
    )


def produce(
    prepared: PreparedCertificate, *, files: FileStore, settings: IssuanceSettings
) -> bytes:
    """Render and PAdES-sign the PDF and keep it pending (settled once its row is committed).

    ``pdf_sha256`` is the hash of the *signed* PDF, the bytes the holder
    receives, so that an upload can be matched byte for byte.
    """
    pdf = render_certificate_pdf(prepared.document)
    if settings.pades is not None:
        credentials = settings.pades.credentials(prepared.issued_at, outlive=settings.validity)
        pdf = sign_pdf(pdf, credentials, verify_url=prepared.document.verify_url)
    files.put(pending_pdf_name(prepared.certificate_id), pdf)
    return pdf


def _record(
    session: DbSession, application: Application, prepared: PreparedCertificate, pdf: bytes
) -> Certificate:
    certificate = Certificate(
        id=prepared.certificate_id,
        application_id=application.id,
        generation=prepared.generation,
        kid=prepared.kid,
        token=prepared.token,
        token_mac=prepared.token_mac,
        holder_date_of_birth=application.date_of_birth,
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        specimen=prepared.specimen,
        issued_at=prepared.issued_at,
        expires_at=prepared.expires_at,
    )
    session.add(certificate)
    return certificate


def _issue(
    session: DbSession,
    application: Application,
    *,
    generation: int,
    keys: KeyStore,
    files: FileStore,
    settings: IssuanceSettings,
    now: datetime,
) -> Certificate:
    """Sign, render, PAdES-sign and store a certificate in the caller's transaction."""
    prepared = _prepare(
        session, application, generation=generation, keys=keys, settings=settings, now=now
    )
    return _record(
        session, application, prepared, produce(prepared, files=files, settings=settings)
    )


class NotReissuable(Exception):
    """The certificate cannot be re-issued (revoked, superseded, or its checks are not final)."""


def reissue(
    session: DbSession,
    old: Certificate,
    *,
    reason: str,
    actor: str,
    keys: KeyStore,
    files: FileStore,
    settings: IssuanceSettings,
    now: datetime,
) -> Certificate:
    """Re-issue after a correction: a new certificate (next generation) from the current checks.

    The old certificate answers ``superseded`` from ``now`` on; nothing in
    its verification names the new one (the audit log links them).
    """
    reason = reason.strip()
    if not reason:
        raise ValueError("a reason is required")
    application = old.application
    current = application.current_certificate
    if current is None or current.id != old.id or old.superseded_at is not None:
        raise NotReissuable(f"certificate {old.id} has already been superseded")
    if old.revoked_at is not None:
        raise NotReissuable(f"certificate {old.id} is revoked")
    if not all_final(application):
        raise NotReissuable(f"the checks of certificate {old.id} are not all final")
    new = _issue(
        session,
        application,
        generation=old.generation + 1,
        keys=keys,
        files=files,
        settings=settings,
        now=now,
    )
    old.superseded_at = now
    session.flush()
    session.refresh(application, ["certificates"])
    record_event(
        session,
        actor=actor,
        action="certificate.superseded",
        subject_type="certificate",
        subject_id=old.id,
        details={"reason": reason, "replaced_by": new.id},
        at=now,
    )
    record_event(
        session,
        actor=actor,
        action="certificate.issued",
        subject_type="certificate",
        subject_id=new.id,
        details={"application": application.id, "kid": new.kid, "replaces": old.id},
        at=now,
    )
    announce(session, "certificate.superseded", certificate=old, now=now)
    announce(session, "certificate.issued", certificate=new, now=now)
    return new


def build_document(
    application: Application,
    certificate_id: str,
    token: str,
    base_url: str,
    issued_at: datetime,
    expires_at: datetime,
    specimen: bool,
    uncovered: tuple[UncoveredPeriod, ...] = (),
) -> CertificateDocument:
    """What the PDF shows, from the stored application and its final checks."""
    lines = []
    for check in application.checks:
        periods = tuple(
            (r.start, r.end) for r in application.residences if r.country == check.country
        )
        lines.append(
            CountryLine(
                country=check.country,
                country_name=country_name(check.country),
                outcome=check_outcome(check),
                answered_on=check.answered_at.date() if check.answered_at else None,
                authority=check.authority or "",
                periods=periods,
                records=tuple(RecordLine(**record) for record in check.records),
                reference=check.reference,
            )
        )
    return CertificateDocument(
        certificate_id=certificate_id,
        language=application.language,
        family_name=application.family_name,
        given_names=application.given_names,
        other_names=tuple(application.other_names),
        date_of_birth=application.identity().date_of_birth,
        place_of_birth=(
            f"{application.birth_city}, "
            f"{cldr.country_name(application.birth_country, application.language)}"
        ),
        nationalities=tuple(application.nationalities),
        document_type=application.document_type,
        document_number=application.identity().document_number,
        document_issuing_country=application.document_country,
        purpose=application.purpose,
        issued_on=issued_at.date(),
        expires_on=expires_at.date(),
        countries=tuple(lines),
        verify_url=verify_url(base_url, token),
        base_url=base_url,
        specimen=specimen,
        uncovered=tuple(
            UncoveredLine(p.country, country_name(p.country), p.start, p.end, p.outcome)
            for p in uncovered
        ),
        gap_months=gap_months(uncovered, issued_at.date()),
        notes=identity_notes(application),
        latin_name=(
            f"{application.latin_family_name}, {application.latin_given_names}".rstrip(", ")
            if application.latin_family_name
            else ""
        ),
    )


def identity_notes(application: Application) -> tuple[str, ...]:
    """The line saying how the holder's identity was confirmed, in the certificate's language."""
    proof = application.identity_proof
    if proof is None or not proof.method:
        return ()
    words = labels(application.language)
    key = f"identity_{proof.method}"
    template = words[key] if key in words else words["identity_other"]
    return (template.format(by=proof.vouched_by or "", method=proof.method),)
