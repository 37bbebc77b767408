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
"""

from __future__ import annotations

import json
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

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


def unverified_kid(token: str) -> str:
    """The ``kid`` a token names; raises InvalidToken when the header is unusable."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise InvalidToken("malformed token") from exc
    kid = header.get("kid")
    if header.get("alg") != ALGORITHM or not isinstance(kid, str):
        raise InvalidToken("unsupported algorithm or no key id")
    return kid


def verify(
    token: str, public_key: Ed25519PublicKey, *, typ: str = CERTIFICATE_TYP
) -> dict[str, Any]:
    """Check the signature with ``public_key`` and the header's ``typ``; return the claims.

    Expiry is *not* enforced here: the caller reports an expired certificate
    as ``expired`` with its claims, which needs them.
    """
    try:
        decoded = jwt.decode_complete(
            token,
            public_key,
            algorithms=[ALGORITHM],
            options={
                "verify_exp": False,
                "verify_aud": False,
                "require": ["iss", "jti", "iat", "exp"],
            },
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    claims: dict[str, Any] = decoded["payload"]
    if not _typ_accepted(decoded["header"].get("typ"), claims, typ):
        raise InvalidToken(f"not a {typ} token")
    return claims


def _typ_accepted(found: object, claims: dict[str, Any], expected: str) -> bool:
    if isinstance(found, str) and found.lower() == expected:
        return True
    legacy_certificate = (
        isinstance(claims.get("c"), dict) and "aud" not in claims and "query" not in claims
    )
    return expected == CERTIFICATE_TYP and found == _LEGACY_TYP and legacy_certificate
