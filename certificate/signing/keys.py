"""Signing keys: a key store for the private halves, the database for the public ones.

The service signs with the newest key that is not retired. ``keys rotate``
retires it and creates a new one; retired keys stay published in the JWKS so
that certificates they signed keep verifying.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select

from certificate.audit import record_event
from certificate.db import DbSession, utcnow
from certificate.signing.models import SigningKey

ALGORITHM = "EdDSA"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_jwk(public_key: Ed25519PublicKey) -> dict[str, str]:
    """The RFC 8037 JWK of an Ed25519 public key (without ``kid``)."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw)}


def thumbprint_kid(jwk: dict[str, str]) -> str:
    """A short ``kid`` from the RFC 7638 thumbprint of the key."""
    canonical = json.dumps(
        {k: jwk[k] for k in ("crv", "kty", "x")}, separators=(",", ":"), sort_keys=True
    )
    return _b64url(hashlib.sha256(canonical.encode()).digest())[:8]


class KeyStore(Protocol):
    """Where private signing keys live (files by default; an HSM or KMS later)."""

    def generate(self) -> tuple[str, dict[str, str]]:
        """Create a key; return its ``kid`` and public JWK."""
        ...

    def private_key(self, kid: str) -> Ed25519PrivateKey:
        """The private key for ``kid``; KeyError if this store does not hold it."""
        ...


class FileKeyStore:
    """Keys as PKCS#8 PEM files, readable only by the service's user."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self._cache: dict[str, Ed25519PrivateKey] = {}

    def generate(self) -> tuple[str, dict[str, str]]:
        """Create an Ed25519 key and write it to ``<kid>.pem`` (mode 0600)."""
        key = Ed25519PrivateKey.generate()
        jwk = public_jwk(key.public_key())
        kid = thumbprint_kid(jwk)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path = self.directory / f"{kid}.pem"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        self._cache[kid] = key
        return kid, jwk

    def private_key(self, kid: str) -> Ed25519PrivateKey:
        """Load (and cache) the key file for ``kid``."""
        if kid not in self._cache:
            path = self.directory / f"{kid}.pem"
            if not path.exists():
                raise KeyError(kid)
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise KeyError(kid)
            self._cache[kid] = key
        return self._cache[kid]


def active_key(session: DbSession, store: KeyStore) -> SigningKey:
    """The key to sign with now, created on first use."""
    key = session.scalars(
        select(SigningKey)
        .where(SigningKey.retired_at.is_(None))
        .order_by(SigningKey.created_at.desc(), SigningKey.kid)
        .limit(1)
    ).first()
    if key is None:
        key = _create(session, store)
    return key


def _create(session: DbSession, store: KeyStore) -> SigningKey:
    kid, jwk = store.generate()
    key = SigningKey(kid=kid, algorithm=ALGORITHM, public_jwk=jwk, created_at=utcnow())
    session.add(key)
    session.flush()
    return key


def rotate(session: DbSession, store: KeyStore, *, actor: str = "operator") -> SigningKey:
    """Retire the signing keys in use and create a new one; old public keys stay published."""
    now = utcnow()
    for old in session.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None))):
        old.retired_at = now
    key = _create(session, store)
    record_event(
        session,
        actor=actor,
        action="key.rotated",
        subject_type="signing_key",
        subject_id=key.kid,
        at=now,
    )
    return key


def jwks(session: DbSession) -> dict[str, Any]:
    """The published key set: every key that may still verify a certificate."""
    keys = []
    for key in session.scalars(select(SigningKey).order_by(SigningKey.created_at, SigningKey.kid)):
        entry: dict[str, Any] = {
            **key.public_jwk,
            "kid": key.kid,
            "alg": key.algorithm,
            "use": "sig",
        }
        if key.retired_at is not None:
            entry["retired_at"] = key.retired_at.isoformat()
        keys.append(entry)
    return {"keys": keys}
