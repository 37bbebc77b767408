"""Encryption at rest of the most sensitive fields: identity document numbers, record
details, second-factor secrets and officers' questions.

AES-256-GCM from ``cryptography``. Each stored value carries the id of the key
that sealed it (``enc:v2:<kid>:<base64(nonce | ciphertext)>``) and is bound to
its column (the column's name is the associated data), so a value copied into
another column does not decrypt. Before sealing, the plaintext is padded
(ISO/IEC 7816-4: a 0x80 byte, then zeros) to a multiple of the column's block
and at least its minimum, so that a ciphertext's length does not tell
``no_record`` from ``record_found``, nor an empty list of records from a short
one. (``enc:v1:`` values, sealed before padding, still open; ``data
reencrypt`` re-seals them padded.) Keys live outside the database: a JSON file in
the instance folder (mode 0600, created on first use) or the ``IPC_DATA_KEYS``
setting (the same JSON, from a secret store). ``flask --app wsgi keys
rotate-data`` adds a key that seals from then on; ``flask --app wsgi data
reencrypt`` re-seals every stored value with it.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

PREFIX = "enc:v2:"
UNPADDED_PREFIX = "enc:v1:"
PREFIXES = (PREFIX, UNPADDED_PREFIX)
PAD_MARK = b"\x80"


def pad(plaintext: bytes, block: int, minimum: int = 0) -> bytes:
    """``plaintext``, a 0x80 byte and zeros up to a multiple of ``block`` of at least ``minimum``."""
    length = max(minimum, len(plaintext) + 1)
    length += -length % block
    return plaintext + PAD_MARK + b"\x00" * (length - len(plaintext) - 1)


def unpad(padded: bytes) -> bytes:
    """Undo :func:`pad`."""
    end = padded.rstrip(b"\x00")
    if not end.endswith(PAD_MARK):
        raise DecryptionError("padding is damaged")
    return end[:-1]


class DecryptionError(Exception):
    """A stored value cannot be decrypted: unknown key, tampered, or moved between columns."""


@dataclass
class DataKeyring:
    """The data-encryption keys this process knows, and the one that seals new values."""

    keys: dict[str, bytes] = field(default_factory=dict)
    current: str = ""
    #: one cipher a key, made on first use: building one costs as much as a decryption
    _ciphers: dict[bytes, AESGCM] = field(default_factory=dict, repr=False, compare=False)

    def _cipher(self, key: bytes) -> AESGCM:
        cipher = self._ciphers.get(key)
        if cipher is None:
            cipher = self._ciphers[key] = AESGCM(key)
        return cipher

    def seal(self, plaintext: bytes, purpose: str, block: int = 16, minimum: int = 0) -> str:
        """Encrypt ``plaintext`` for the column named ``purpose``, padded (see :func:`pad`)."""
        if not self.current:
            raise DecryptionError("no data-encryption key is configured")
        nonce = os.urandom(12)
        padded = pad(plaintext, block, minimum)
        sealed = self._cipher(self.keys[self.current]).encrypt(nonce, padded, purpose.encode())
        return f"{PREFIX}{self.current}:{base64.b64encode(nonce + sealed).decode()}"

    def open(self, stored: str, purpose: str) -> bytes:
        """Decrypt a value sealed by :meth:`seal` for the same ``purpose``."""
        version = _version(stored)
        if version is None:
            raise DecryptionError("value is not encrypted")
        kid, _, payload = stored[len(version) :].partition(":")
        key = self.keys.get(kid)
        if key is None:
            raise DecryptionError(f"unknown data key {kid!r}")
        try:  # base64.b64decode's own call, without its copy of the text
            raw = binascii.a2b_base64(payload)
        except (binascii.Error, ValueError) as exc:
            raise DecryptionError("value does not decrypt") from exc
        try:
            plaintext = self._cipher(key).decrypt(raw[:12], raw[12:], purpose.encode())
        except Exception as exc:
            raise DecryptionError("value does not decrypt") from exc
        return unpad(plaintext) if version == PREFIX else plaintext

    def key_id(self, stored: str) -> str | None:
        """The id of the key that sealed ``stored``."""
        version = _version(stored)
        if version is None:
            return None
        return stored[len(version) :].partition(":")[0]


def _version(stored: str) -> str | None:
    """The prefix ``stored`` starts with (which of :data:`PREFIXES`), if any."""
    for prefix in PREFIXES:
        if stored.startswith(prefix):
            return prefix
    return None


_keyring = DataKeyring()
_lock = threading.Lock()


def keyring() -> DataKeyring:
    """The process-wide keyring used by encrypted columns."""
    return _keyring


def install_keys(keys: dict[str, bytes], current: str) -> None:
    """Add keys to the process keyring and make ``current`` the sealing key."""
    with _lock:
        _keyring.keys.update(keys)
        _keyring.current = current


def _parse(document: dict[str, Any]) -> tuple[dict[str, bytes], str]:
    keys = {kid: base64.b64decode(value) for kid, value in document["keys"].items()}
    current = str(document["current"])
    if current not in keys or any(len(k) != 32 for k in keys.values()):
        raise ValueError("data keys must be 32 bytes and include the current one")
    return keys, current


def load_data_keys(
    instance: Path, configured: str | dict[str, Any] | None
) -> tuple[dict[str, bytes], str]:
    """Keys from ``IPC_DATA_KEYS`` when set, else the instance file (created on first use).

    The setting is the key file's JSON. Flask's ``from_prefixed_env`` parses a
    JSON environment value into a dict before it gets here, while an instance
    ``config.py`` or a test may give the JSON text: both are accepted.
    """
    if configured:
        document = json.loads(configured) if isinstance(configured, str) else configured
        return _parse(document)
    path = instance / "data-keys.json"
    if not path.exists():
        write_key_file(path, {"current": "", "keys": {}}, add_new=True)
    return _parse(json.loads(path.read_text()))


def write_key_file(path: Path, document: dict[str, Any], *, add_new: bool) -> str:
    """Write the key file (mode 0600); with ``add_new``, add a fresh current key first."""
    if add_new:
        kid = secrets.token_hex(4)
        document["keys"][kid] = base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()
        document["current"] = kid
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(document, handle, indent=2)
    os.replace(tmp, path)
    return str(document["current"])


class EncryptedText(TypeDecorator[str]):
    """A text column stored encrypted; ``purpose`` names the column (associated data).

    ``block`` and ``minimum`` set the padding (see :func:`pad`): choose them so
    that the values whose difference matters seal to the same length.
    """

    impl = Text
    cache_ok = True

    def __init__(self, purpose: str, block: int = 16, minimum: int = 0) -> None:
        super().__init__()
        self.purpose = purpose
        self.block = block
        self.minimum = minimum

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return _keyring.seal(value.encode(), self.purpose, self.block, self.minimum)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return _keyring.open(value, self.purpose).decode()


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON value stored encrypted, padded like :class:`EncryptedText`."""

    impl = Text
    cache_ok = True

    def __init__(self, purpose: str, block: int = 16, minimum: int = 0) -> None:
        super().__init__()
        self.purpose = purpose
        self.block = block
        self.minimum = minimum

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        plaintext = json.dumps(value, separators=(",", ":")).encode()
        return _keyring.seal(plaintext, self.purpose, self.block, self.minimum)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return json.loads(_keyring.open(value, self.purpose))


def encrypted_columns() -> list[tuple[type[Any], str]]:
    """Every (model, attribute) stored encrypted."""
    from certificate.db import Base

    found = []
    for mapper in Base.registry.mappers:
        for column in mapper.columns:
            if isinstance(column.type, EncryptedText | EncryptedJSON):
                found.append((mapper.class_, column.key))
    return found


def reencrypt_all(session: Any, batch: int = 500) -> dict[str, int]:
    """Re-seal every stored encrypted value with the current key; returns counts per column.

    Values are read (decrypted with whichever key sealed them) and marked
    changed, so the flush writes them sealed with the current key.
    """
    from sqlalchemy import select
    from sqlalchemy.orm.attributes import flag_modified

    counts: dict[str, int] = {}
    for model, attribute in encrypted_columns():
        column = getattr(model, attribute)
        name = f"{model.__tablename__}.{attribute}"
        counts[name] = 0
        rows = session.scalars(select(model).where(column.is_not(None))).yield_per(batch)
        for row in rows:
            flag_modified(row, attribute)
            counts[name] += 1
        session.flush()
    return counts
