"""Compact JWS signed by the service: EdDSA only, the key chosen by us, never by the token.

Every JWS carries a ``typ`` that says what it is for, and every verifier
checks it, so a token signed for one purpose (a push query to an agency) is
never accepted as another (a certificate). Certificates are
``ipc-cert+jwt``; push queries ``ipc-query+jwt``.

Tokens signed before ``typ`` was set carry PyJWT's default ``"JWT"``. The set
of such tokens is closed (nothing is signed that way any more), and it holds
two kinds: certificates, and push queries, which always have ``aud`` and
``query`` claims a certificate never has. A ``"JWT"`` token is therefore
still accepted as a certificate when its claims are a certificate's (the
outcomes claim ``c``, no ``aud``, no ``query``), so certificates already in
holders' hands keep verifying; it is never accepted as anything else.

Tokens are signed with PyJWT and verified here in one pass (:func:`parse`,
then :func:`check`), the signature checked by libsodium
(:mod:`certificate.signing.ed25519`): verification
is the service's busiest path, and libsodium's Ed25519 check takes half the
time of OpenSSL's. libsodium is also the stricter of the two (it refuses
small-order keys and non-canonical encodings), which a token we signed never
uses.
"""

from __future__ import annotations

import base64
import json
import re
import time
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from certificate import json_text
from certificate.signing import ed25519
from certificate.signing.keys import ALGORITHM


class _CompactJSON(json.JSONEncoder):
    """UTF-8 instead of ``\\uXXXX`` escapes: a name in Arabic script costs 2 bytes a letter, not 6."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["ensure_ascii"] = False
        super().__init__(**kwargs)


CERTIFICATE_TYP = "ipc-cert+jwt"
PUSH_QUERY_TYP = "ipc-query+jwt"
_LEGACY_TYP = "JWT"


class InvalidToken(Exception):
    """Malformed, wrongly signed, signed by a key we do not know, or of another ``typ``."""


def sign(claims: dict[str, Any], key: Ed25519PrivateKey, kid: str, *, typ: str) -> str:
    """Sign ``claims`` as a compact JWS with ``kid`` and ``typ`` (what it is for) in the header."""
    return jwt.encode(
        claims,
        key,
        algorithm=ALGORITHM,
        headers={"kid": kid, "typ": typ},
        json_encoder=_CompactJSON,
    )


#: A base64url segment without padding (RFC 7515 §2); checked by one compiled pattern.
_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")
#: Claims every token carries, and their JSON types.
_REQUIRED = {"iss": str, "jti": str, "iat": int, "exp": int}


@dataclass(frozen=True, slots=True)
class ParsedToken:
    """A compact JWS split and decoded once; nothing in it is trusted until :func:`check`."""

    kid: str
    header: dict[str, Any]
    payload: bytes
    signing_input: bytes
    signature: bytes


def _segment(part: str) -> bytes:
    if len(part) % 4 == 1 or _SEGMENT.fullmatch(part) is None:
        raise InvalidToken("malformed token")
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def parse(token: str) -> ParsedToken:
    """Split a compact JWS and read its header; raises InvalidToken when it is unusable.

    One pass over the token: PyJWT's parser checks the alphabet of every
    segment character by character in Python, and finding the ``kid`` first
    made it run twice; together that cost more than the signature check.
    Only EdDSA with a ``kid`` is accepted, and no ``crit`` or ``b64`` header
    (no extension of RFC 7515 is understood here).
    """
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidToken("malformed token")
    header_part, payload_part, signature_part = parts
    try:
        header = json_text.loads(_segment(header_part))
    except ValueError as exc:  # binascii.Error, JSON and UTF-8 errors are all ValueErrors
        raise InvalidToken("malformed token") from exc
    if not isinstance(header, dict):
        raise InvalidToken("malformed token")
    kid = header.get("kid")
    if header.get("alg") != ALGORITHM or not isinstance(kid, str):
        raise InvalidToken("unsupported algorithm or no key id")
    if "crit" in header or "b64" in header:
        raise InvalidToken("unsupported header")
    return ParsedToken(
        kid=kid,
        header=header,
        payload=_segment(payload_part),
        signing_input=f"{header_part}.{payload_part}".encode("ascii"),
        signature=_segment(signature_part),
    )


def check(
    parsed: ParsedToken, public_key: Ed25519PublicKey, *, typ: str = CERTIFICATE_TYP
) -> dict[str, Any]:
    """Check the signature with ``public_key``, the claims and the header's ``typ``; return
    the claims.

    ``iss`` and ``jti`` must be strings, ``iat`` and ``exp`` integers; ``iat``
    (and ``nbf``, if present) must not be in the future. Expiry is *not*
    enforced: the caller reports an expired certificate as ``expired`` with its
    claims, which needs them.
    """
    if not ed25519.verify(parsed.signature, parsed.signing_input, public_key.public_bytes_raw()):
        raise InvalidToken("Signature verification failed")
    return check_claims(parsed, typ=typ)


def check_claims(parsed: ParsedToken, *, typ: str = CERTIFICATE_TYP) -> dict[str, Any]:
    """The claims and the header's ``typ`` checked as :func:`check` checks them, for a
    token vouched for otherwise (a stored token's MAC); return the claims."""
    try:
        claims = json_text.loads(parsed.payload)
    except ValueError as exc:
        raise InvalidToken("malformed claims") from exc
    if not isinstance(claims, dict):
        raise InvalidToken("malformed claims")
    for name, kind in _REQUIRED.items():
        value = claims.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise InvalidToken(f"claim {name!r} missing or not a {kind.__name__}")
    not_before = claims.get("nbf", 0)
    if not isinstance(not_before, int) or isinstance(not_before, bool):
        raise InvalidToken("claim 'nbf' not an int")
    now = time.time()
    if claims["iat"] > now or not_before > now:
        raise InvalidToken("the token is not yet valid")
    if not _typ_accepted(parsed.header.get("typ"), claims, typ):
        raise InvalidToken(f"not a {typ} token")
    return claims


def unverified_kid(token: str) -> str:
    """The ``kid`` a token names; raises InvalidToken when the header is unusable."""
    return parse(token).kid


def verify(
    token: str, public_key: Ed25519PublicKey, *, typ: str = CERTIFICATE_TYP
) -> dict[str, Any]:
    """Check the signature with ``public_key`` and the header's ``typ``; return the claims
    (see :func:`check`)."""
    return check(parse(token), public_key, typ=typ)


def _typ_accepted(found: object, claims: dict[str, Any], expected: str) -> bool:
    if isinstance(found, str) and found.lower() == expected:
        return True
    legacy_certificate = (
        isinstance(claims.get("c"), dict) and "aud" not in claims and "query" not in claims
    )
    return expected == CERTIFICATE_TYP and found == _LEGACY_TYP and legacy_certificate
