"""A stored certificate token vouched for by a keyed MAC, in place of its signature check.

A typed number or an uploaded PDF is answered from the token stored with its
certificate, sealed at rest under the data key. That answer must not be
forgeable by someone who holds the data key and can write the database, so
the stored token's Ed25519 signature was checked on every such answer: some
50 µs, a third of a typed number's CPU.

At issuance the service now also stores, in ``certificates.token_mac``, an
HMAC-SHA256 of the certificate's number and token under a key derived (HKDF)
from the private signing key; an answer recomputes it in about a microsecond.
Only the holder of the signing key can compute it, just as only they can
sign, so the protection is the same, and the number in the MAC ties the token
to its row. A token without a MAC (issued before it existed) or with one that
does not match is checked by its signature as before, and so is every token
in a process that cannot read the private key.
"""

from __future__ import annotations

import hmac
import threading

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from certificate.signing.keys import KeyStore

#: HKDF's ``info``: what the derived key is for, so that it is never another key's twin
_PURPOSE = b"ipc certificate token mac v1"


def derive_key(private_key: Ed25519PrivateKey) -> bytes:
    """The MAC key that goes with a signing key."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(
        private_key.private_bytes_raw()
    )


def token_mac(key: bytes, certificate_id: str, token: str) -> str:
    """The MAC (hex) of a certificate's number and token."""
    return hmac.digest(key, f"{certificate_id}\n{token}".encode(), "sha256").hex()


def vouches(key: bytes, certificate_id: str, token: str, mac: str) -> bool:
    """Whether ``mac`` is the MAC of this number and token under ``key`` (constant time)."""
    return hmac.compare_digest(token_mac(key, certificate_id, token), mac)


class TokenMacKeys:
    """MAC keys by ``kid``, derived once per process from the key store's private keys.

    A key the store does not hold is remembered as missing too, so that a process
    without the private keys does not look for the file on every answer. (A key's
    file is written before anything is signed with it, so a key missing at its
    first use stays missing.)
    """

    def __init__(self, store: KeyStore) -> None:
        self._store = store
        self._keys: dict[str, bytes | None] = {}
        self._lock = threading.Lock()

    def get(self, kid: str) -> bytes | None:
        """The MAC key for ``kid``; None when the store does not hold its private key."""
        if kid not in self._keys:
            with self._lock:
                try:
                    self._keys[kid] = derive_key(self._store.private_key(kid))
                except KeyError:
                    self._keys[kid] = None
        return self._keys[kid]
