"""Compact JWS for certificate tokens: EdDSA only, the key chosen by us, never by the token."""

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


class InvalidToken(Exception):
    """Malformed, wrongly signed, or signed by a key we do not know."""


def sign(claims: dict[str, Any], key: Ed25519PrivateKey, kid: str) -> str:
    """Sign ``claims`` as a compact JWS with ``kid`` in the header (no ``typ``: every byte counts)."""
    return jwt.encode(
        claims, key, algorithm=ALGORITHM, headers={"kid": kid}, json_encoder=_CompactJSON
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


def verify(token: str, public_key: Ed25519PublicKey) -> dict[str, Any]:
    """Check the signature with ``public_key`` and return the claims.

    Expiry is *not* enforced here: the caller reports an expired certificate
    as ``expired`` with its claims, which needs them.
    """
    try:
        claims: dict[str, Any] = jwt.decode(
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
    return claims
