"""Issuance: once every check is final, sign the claims, render the PDF, store both. Once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from certificate.applications.models import Application, ApplicationStatus
from certificate.audit import record_event
from certificate.checks.service import all_final
from certificate.db import DbSession
from certificate.issuance.claims import build_claims, check_outcome, new_certificate_id
from certificate.issuance.document import CertificateDocument, CountryLine, RecordLine
from certificate.issuance.models import Certificate
from certificate.issuance.pdf import render_certificate_pdf
from certificate.signing import jws
from certificate.signing.keys import KeyStore, active_key
from certificate.storage import FileStore
from country_adapters.countries import country_name


@dataclass(frozen=True)
class IssuanceSettings:
    """What issuance needs from the configuration."""

    base_url: str
    issuer: str
    validity: timedelta


def verify_url(base_url: str, token: str) -> str:
    """The QR content: the token travels in the fragment, which never reaches a server."""
    return f"{base_url}/v#{token}"


def pdf_name(certificate_id: str) -> str:
    """The storage name of a certificate's PDF."""
    return f"{certificate_id}.pdf"


def issue_if_ready(
    session: DbSession,
    application: Application,
    *,
    keys: KeyStore,
    files: FileStore,
    settings: IssuanceSettings,
    now: datetime,
) -> Certificate | None:
    """Issue the application's certificate when every check is final and none exists yet.

    The ``(application_id, generation)`` unique constraint makes a concurrent
    second issuance fail at commit, so exactly one certificate ever exists.
    """
    if application.status != ApplicationStatus.IN_PROGRESS.value or application.certificates:
        return None
    if not all_final(application):
        return None
    certificate_id = new_certificate_id()
    specimen = any(check.specimen for check in application.checks)
    expires_at = now + settings.validity
    key = active_key(session, keys)
    claims = build_claims(application, certificate_id, settings.issuer, now, expires_at, specimen)
    token = jws.sign(claims, keys.private_key(key.kid), key.kid)
    document = build_document(
        application, certificate_id, token, settings.base_url, now, expires_at, specimen
    )
    pdf = render_certificate_pdf(document)
    files.put(pdf_name(certificate_id), pdf)
    certificate = Certificate(
        id=certificate_id,
        application_id=application.id,
        generation=1,
        kid=key.kid,
        token=token,
        holder_date_of_birth=application.date_of_birth,
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        specimen=specimen,
        issued_at=now,
        expires_at=expires_at,
    )
    session.add(certificate)
    application.status = ApplicationStatus.COMPLETE.value
    application.completed_at = now
    session.flush()
    record_event(
        session,
        actor="system",
        action="certificate.issued",
        subject_type="certificate",
        subject_id=certificate_id,
        details={"application": application.id, "kid": key.kid},
        at=now,
    )
    return certificate


def build_document(
    application: Application,
    certificate_id: str,
    token: str,
    base_url: str,
    issued_at: datetime,
    expires_at: datetime,
    specimen: bool,
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
        date_of_birth=application.date_of_birth,
        place_of_birth=f"{application.birth_city}, {country_name(application.birth_country)}",
        nationalities=tuple(application.nationalities),
        document_type=application.document_type,
        document_number=application.document_number,
        document_issuing_country=application.document_country,
        purpose=application.purpose,
        issued_on=issued_at.date(),
        expires_on=expires_at.date(),
        countries=tuple(lines),
        verify_url=verify_url(base_url, token),
        base_url=base_url,
        specimen=specimen,
    )
