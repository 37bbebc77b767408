"""Turning stored applications into the API's response models."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import selectinload

from certificate.applications.models import Application
from certificate.applications.schemas import (
    ApplicantOut,
    ApplicationOut,
    CertificateOut,
    CheckOut,
    IdentityOut,
    LatinNameOut,
)
from certificate.checks.models import Check
from certificate.identity.service import identity_view
from certificate.issuance.service import verify_url


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


#: What :func:`application_out` reads, each in one query. Not a check's records: they are
#: sealed (kilobytes of ciphertext each, opened on load) and the view does not show them.
APPLICATION_OUT_LOADING = (
    selectinload(Application.checks).defer(Check.records),
    selectinload(Application.certificates),
    selectinload(Application.identity_proof),
)


def application_out(application: Application, *, base_url: str, now: datetime) -> ApplicationOut:
    """The contract's view of one application."""
    certificate = application.current_certificate
    identity = identity_view(application.identity_proof)
    cert_out = None
    if certificate is not None:
        status = certificate.status_at(now).value
        cert_out = CertificateOut(
            id=certificate.id,
            status=status,  # type: ignore[arg-type]
            issued_at=_iso(certificate.issued_at) or "",
            expires_at=_iso(certificate.expires_at) or "",
            pdf_url=f"/api/v1/applications/{application.id}/certificate.pdf",
            # once purged, the token is gone: the page for typed verification remains
            verify_url=verify_url(base_url, certificate.token)
            if certificate.token
            else f"{base_url}/v",
            specimen=certificate.specimen,
            revocation_reason=certificate.revocation_reason if status == "revoked" else None,
        )
    return ApplicationOut(
        id=application.id,
        status=application.status,  # type: ignore[arg-type]
        created_at=_iso(application.created_at) or "",
        language=application.language,
        applicant=ApplicantOut(
            family_name=application.family_name,
            given_names=application.given_names,
            latin_name=LatinNameOut(
                family_name=application.latin_family_name,
                given_names=application.latin_given_names or "",
            )
            if application.latin_family_name is not None
            else None,
        ),
        identity=IdentityOut.model_validate(identity) if identity else None,
        checks=[
            CheckOut(
                country=check.country,
                status=check.status,  # type: ignore[arg-type]
                outcome=check.outcome,  # type: ignore[arg-type]
                authority=check.authority,
                deadline=_iso(check.deadline_at),
                answered_at=_iso(check.answered_at),
            )
            for check in application.checks
        ],
        certificate=cert_out,
    )
