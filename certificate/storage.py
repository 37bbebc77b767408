"""Where issued PDFs are kept: a directory by default, anything with the same two methods later."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Protocol

from certificate.encryption import DataKeyring

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")


class FileStore(Protocol):
    """Write-once blob storage."""

    def put(self, name: str, data: bytes) -> None:
        """Store ``data`` under ``name`` durably (replacing a partial earlier write)."""
        ...

    def get(self, name: str) -> bytes:
        """The bytes stored under ``name``; FileNotFoundError when absent."""
        ...

    def delete(self, name: str) -> None:
        """Remove ``name`` if it exists."""
        ...

    def rename(self, source: str, target: str) -> None:
        """Atomically give ``source`` the name ``target``; FileNotFoundError when absent."""
        ...

    def ages(self, suffix: str) -> dict[str, float]:
        """The names ending in ``suffix``, with their age in seconds."""
        ...


class LocalFileStore:
    """Files in one directory, written atomically (temporary file, fsync, rename)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def _path(self, name: str) -> Path:
        if not _SAFE_NAME.match(name):
            raise ValueError(f"unsafe file name {name!r}")
        return self.directory / name

    def put(self, name: str, data: bytes) -> None:
        """Write atomically so a crash never leaves a half-written certificate."""
        path = self._path(name)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_suffix(path.suffix + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    def get(self, name: str) -> bytes:
        """Read a stored file."""
        return self._path(name).read_bytes()

    def delete(self, name: str) -> None:
        """Remove a stored file (nothing happens when it is already gone)."""
        self._path(name).unlink(missing_ok=True)

    def rename(self, source: str, target: str) -> None:
        """Atomic within one directory."""
        os.replace(self._path(source), self._path(target))

    def ages(self, suffix: str) -> dict[str, float]:
        """Files ending in ``suffix`` and how long ago they were written."""
        if not self.directory.exists():
            return {}
        now = time.time()
        return {
            path.name: now - path.stat().st_mtime
            for path in self.directory.iterdir()
            if path.name.endswith(suffix)
        }


#: Sealed documents are padded to a multiple of this, so that their size tells nothing of
#: how many records a certificate lists.
DOCUMENT_PAD_BLOCK = 64 * 1024
DOCUMENT_PURPOSE = "documents"
SEALED_MAGIC = b"enc:"


def seal_document(keyring: DataKeyring, data: bytes) -> bytes:
    """``data`` sealed with the current data key (AES-256-GCM, padded)."""
    return keyring.seal(data, DOCUMENT_PURPOSE, block=DOCUMENT_PAD_BLOCK).encode()


def open_document(keyring: DataKeyring, stored: bytes) -> bytes:
    """The document in ``stored``: opened when sealed, as is when written before sealing."""
    if not stored.startswith(SEALED_MAGIC):
        return stored
    return keyring.open(stored.decode(), DOCUMENT_PURPOSE)


class SealedFileStore:
    """Another store whose files are sealed with the data keys: a copy of the instance
    folder without the keys holds no certificate's content."""

    def __init__(self, inner: FileStore, keyring: DataKeyring) -> None:
        self.inner = inner
        self.keyring = keyring

    def put(self, name: str, data: bytes) -> None:
        """Seal and store."""
        self.inner.put(name, seal_document(self.keyring, data))

    def get(self, name: str) -> bytes:
        """Read and open."""
        return open_document(self.keyring, self.inner.get(name))

    def delete(self, name: str) -> None:
        """Remove ``name`` if it exists."""
        self.inner.delete(name)

    def rename(self, source: str, target: str) -> None:
        """Atomically rename (the sealed bytes are bound to the store, not to the name)."""
        self.inner.rename(source, target)

    def ages(self, suffix: str) -> dict[str, float]:
        """The names ending in ``suffix``, with their age in seconds."""
        return self.inner.ages(suffix)

    def reseal(self, suffix: str = ".pdf") -> int:
        """Re-seal every document with the current key (and seal any written before sealing)."""
        names = sorted(self.ages(suffix))
        for name in names:
            self.put(name, self.get(name))
        return len(names)
