"""Changing a certificate's status after issuance."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from certificate.audit import record_event
from certificate.db import DbSession
from certificate.events import announce
from certificate.issuance.claims import normalise_certificate_id
from certificate.issuance.models import Certificate


class CertificateNotFound(Exception):
    """No certificate has that number."""


class AlreadyRevoked(Exception):
    """The certificate was revoked before."""


def revoke(
    session: DbSession, certificate_id: str, *, reason: str, actor: str, now: datetime
) -> Certificate:
    """Revoke a certificate; every verification from ``now`` on answers ``revoked``."""
    reason = reason.strip()
    if not reason:
        raise ValueError("a reason is required")
    canonical = normalise_certificate_id(certificate_id)
    certificate = session.get(Certificate, canonical) if canonical else None
    if certificate is None:
        raise CertificateNotFound(certificate_id)
    if certificate.revoked_at is not None:
        raise AlreadyRevoked(certificate.id)
    certificate.revoked_at = now
    certificate.revocation_reason = reason
    record_event(
        session,
        actor=actor,
        action="certificate.revoked",
        subject_type="certificate",
        subject_id=certificate.id,
        details={"reason": reason},
        at=now,
    )
    announce(session, "certificate.revoked", certificate=certificate, now=now)
    return certificate


def find_certificate(session: DbSession, typed: str) -> Certificate | None:
    """The certificate with this number (as typed: case, spaces, hyphens forgiven), or None."""
    canonical = normalise_certificate_id(typed)
    return session.get(Certificate, canonical) if canonical else None


def recent_certificates(session: DbSession, *, limit: int = 50) -> list[Certificate]:
    """The most recently issued certificates, newest first."""
    return list(
        session.scalars(
            select(Certificate).order_by(Certificate.issued_at.desc(), Certificate.id).limit(limit)
        )
    )
