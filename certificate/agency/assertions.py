"""Authenticating an agency's system: a JWT client assertion signed with its registered key.

Claims: ``iss`` = the agency's id, ``aud`` = the service's base URL (a
trailing slash ignored), ``iat``, ``exp`` at most five minutes later, and a
``jti`` never seen before from that agency. Only ES256 and EdDSA are
accepted, and the key is always the agency's registered one: the token's
header never chooses key material.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from certificate.agency.models import Agency, UsedAssertion
from certificate.db import DbSession

ALGORITHMS = ("ES256", "EdDSA")
MAX_LIFETIME = timedelta(minutes=5)
CLOCK_SKEW = timedelta(seconds=30)


class AssertionRejected(Exception):
    """The assertion does not authenticate an agency (the reason is for logs, not clients)."""


def authenticate_agency(session: DbSession, token: str, *, audience: str, now: datetime) -> Agency:
    """The enabled agency that signed ``token``; AssertionRejected otherwise.

    A ``jti`` is recorded on success, in the caller's transaction, and
    refused if it comes again before it would have expired.
    """
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise AssertionRejected("malformed") from exc
    if header.get("alg") not in ALGORITHMS:
        raise AssertionRejected("algorithm not allowed")
    agency = session.get(Agency, str(unverified.get("iss", "")))
    if agency is None or not agency.enabled:
        raise AssertionRejected("unknown issuer")
    claims = _verify_with_agency_keys(token, agency, header["alg"], audience, now)
    issued = datetime.fromtimestamp(claims["iat"], UTC)
    expires = datetime.fromtimestamp(claims["exp"], UTC)
    if expires - issued > MAX_LIFETIME or expires > now + MAX_LIFETIME + CLOCK_SKEW:
        raise AssertionRejected("lifetime longer than five minutes")
    if issued > now + CLOCK_SKEW:
        raise AssertionRejected("issued in the future")
    jti = claims["jti"]
    if not isinstance(jti, str) or not 0 < len(jti) <= 200:
        raise AssertionRejected("bad jti")
    _consume_jti(session, agency, jti, expires, now)
    return agency


def _verify_with_agency_keys(
    token: str, agency: Agency, algorithm: str, audience: str, now: datetime
) -> dict[str, Any]:
    audiences = [audience.rstrip("/"), audience.rstrip("/") + "/"]
    for key in agency.active_keys:
        if key.algorithm != algorithm:
            continue
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.public_key_pem,
                algorithms=[key.algorithm],
                audience=audiences,
                issuer=agency.id,
                leeway=CLOCK_SKEW,
                options={"require": ["iss", "aud", "iat", "exp", "jti"]},
            )
        except jwt.InvalidSignatureError:
            continue
        except jwt.PyJWTError as exc:
            raise AssertionRejected(type(exc).__name__) from exc
        _ = now
        return claims
    raise AssertionRejected("no registered key verifies the signature")


def _consume_jti(
    session: DbSession, agency: Agency, jti: str, expires: datetime, now: datetime
) -> None:
    session.execute(delete(UsedAssertion).where(UsedAssertion.expires_at < now - CLOCK_SKEW))
    try:
        with session.begin_nested():
            session.add(
                UsedAssertion(agency_id=agency.id, jti=jti, expires_at=expires + CLOCK_SKEW)
            )
    except IntegrityError as exc:
        raise AssertionRejected("replayed jti") from exc
