"""Agencies: registering them, their keys, and the queries they see."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select

from certificate.agency.models import DEFAULT_DEADLINE_WORKING_DAYS, Agency, AgencyKey, AgencyMode
from certificate.audit import record_event
from certificate.checks.models import Check, CheckStatus
from certificate.checks.service import build_query
from certificate.db import DbSession, utcnow
from country_adapters.countries import is_country_code
from country_adapters.documents import query_document


class AgencyError(ValueError):
    """A setting of an agency is not acceptable; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class QueryNotFound(Exception):
    """No such query for this agency's country (or not yet sent to it)."""


def parse_public_key(pem: str) -> tuple[str, str]:
    """``(algorithm, pem)`` for an EC P-256 (ES256) or Ed25519 (EdDSA) public key."""
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except ValueError as exc:
        raise AgencyError("public-key", "is not a PEM public key") from exc
    if isinstance(key, Ed25519PublicKey):
        algorithm = "EdDSA"
    elif isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        algorithm = "ES256"
    else:
        raise AgencyError("public-key", "must be an EC P-256 (ES256) or Ed25519 (EdDSA) key")
    normalised = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return algorithm, normalised


def add_working_days(start: datetime, days: int) -> datetime:
    """``start`` plus ``days`` working days (Monday to Friday), same time of day."""
    moment = start
    remaining = days
    while remaining > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            remaining -= 1
    return moment


def enabled_agency(session: DbSession, country: str) -> Agency | None:
    """The enabled agency of ``country``, if one is registered."""
    return session.scalars(
        select(Agency).where(Agency.country == country, Agency.enabled.is_(True))
    ).first()


def add_agency(
    session: DbSession,
    *,
    country: str,
    name: str,
    mode: str,
    public_key_pem: str | None = None,
    endpoint: str | None = None,
    deadline_working_days: int = DEFAULT_DEADLINE_WORKING_DAYS,
    actor: str = "operator",
) -> Agency:
    """Register an agency; AgencyError names the setting that is wrong."""
    country = country.strip().upper()
    if not is_country_code(country):
        raise AgencyError("country", "is not an ISO 3166-1 alpha-2 country code")
    if mode not in {m.value for m in AgencyMode}:
        raise AgencyError("mode", "must be portal, api or push")
    if not name.strip():
        raise AgencyError("name", "is required")
    if deadline_working_days < 1:
        raise AgencyError("deadline-days", "must be at least 1")
    if mode == AgencyMode.API.value and not public_key_pem:
        raise AgencyError("public-key", "an api-mode agency needs the public key it signs with")
    if mode == AgencyMode.PUSH.value:
        parts = urlsplit(endpoint or "")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise AgencyError("endpoint", "a push-mode agency needs an http(s) endpoint URL")
    elif endpoint:
        raise AgencyError("endpoint", "only push-mode agencies have an endpoint")
    if enabled_agency(session, country) is not None:
        raise AgencyError("country", f"{country} already has an enabled agency; disable it first")
    agency = Agency(
        country=country,
        name=name.strip(),
        mode=mode,
        endpoint=endpoint,
        deadline_working_days=deadline_working_days,
    )
    if public_key_pem:
        algorithm, pem = parse_public_key(public_key_pem)
        agency.keys.append(AgencyKey(algorithm=algorithm, public_key_pem=pem))
    session.add(agency)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="agency.added",
        subject_type="agency",
        subject_id=agency.id,
        details={"country": country, "mode": mode},
    )
    return agency


def rotate_key(
    session: DbSession, agency: Agency, public_key_pem: str, *, actor: str = "operator"
) -> AgencyKey:
    """Register a new key for ``agency`` and retire its earlier ones."""
    algorithm, pem = parse_public_key(public_key_pem)
    now = utcnow()
    for key in agency.active_keys:
        key.retired_at = now
    key = AgencyKey(algorithm=algorithm, public_key_pem=pem, created_at=now)
    agency.keys.append(key)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="agency.key_rotated",
        subject_type="agency",
        subject_id=agency.id,
        at=now,
    )
    return key


def disable_agency(session: DbSession, agency: Agency, *, actor: str = "operator") -> None:
    """Stop using an agency; its country falls back to any installed adapter."""
    agency.enabled = False
    record_event(
        session, actor=actor, action="agency.disabled", subject_type="agency", subject_id=agency.id
    )


def open_queries(session: DbSession, country: str) -> list[Check]:
    """Queries sent to ``country`` and not yet answered, oldest first."""
    return list(
        session.scalars(
            select(Check)
            .where(Check.country == country, Check.status == CheckStatus.SENT.value)
            .order_by(Check.sent_at, Check.id)
        )
    )


def query_for_country(session: DbSession, country: str, check_id: str) -> Check:
    """A query of ``country`` that has been sent; QueryNotFound for anything else."""
    check = session.get(Check, check_id)
    if check is None or check.country != country or check.sent_at is None:
        raise QueryNotFound(check_id)
    return check


def query_view(check: Check) -> dict[str, Any]:
    """A query as the agency API presents it (the same document the push adapter sends)."""
    return query_document(build_query(check))
