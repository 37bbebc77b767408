"""The holder's verification history, written in batches off the request path.

A verification answers from a read alone; the row that tells the holder
"your certificate was checked" is appended to an in-memory buffer and a
writer thread of the process inserts the whole buffer in one multi-row
``INSERT`` and one commit, at most :attr:`HistoryBuffer.interval` seconds
(one by default) after the first row arrived. So a thousand verifications a
second cost one transaction a second, not a thousand.

What a crash can lose: a process killed outright (``SIGKILL``, power loss)
loses the rows of at most its last interval. A graceful stop (``SIGTERM``,
gunicorn's restarts) writes the buffer before the process exits. A failed
write (the database restarting) keeps the rows and tries again on the next
tick; the buffer holds at most :data:`MAX_BUFFERED` rows, beyond which new
rows are dropped with a logged warning rather than the process growing
without bound.

On PostgreSQL the batch goes in by ``COPY`` rather than a multi-row
``INSERT``: some 2 µs of the web process's CPU a row against 9-10 µs.

Once written, the rows are chained into the audit log by the sweeper
(:func:`certificate.verify.service.chain_verifications`).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.engine import Connection, Engine

from certificate.issuance.models import CertificateVerification

log = logging.getLogger(__name__)

#: Rows kept in memory while the database cannot be written (nearly an hour at 30 a second).
MAX_BUFFERED = 100_000

_TABLE: Table = CertificateVerification.__table__  # type: ignore[assignment]
_INSERT = insert(_TABLE)
#: what a row holds (the id is the table's own)
_COLUMNS = ("certificate_id", "verified_at", "method", "result", "organisation", "audit_event_id")
_COPY = f"COPY {_TABLE.name} ({', '.join(_COLUMNS)}) FROM STDIN"


def _write(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` in the connection's transaction: by ``COPY`` on PostgreSQL (psycopg),
    the columns' own bind processing applied as an ``INSERT`` would; else one ``INSERT``
    of many rows."""
    dialect = connection.dialect
    if dialect.driver != "psycopg":
        connection.execute(_INSERT, rows)
        return
    processors = [
        _TABLE.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in _COLUMNS
    ]
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor, cursor.copy(_COPY) as copy:
        for row in rows:
            copy.write_row(
                [
                    value if process is None or value is None else process(value)
                    for process, value in zip(processors, map(row.get, _COLUMNS), strict=True)
                ]
            )


class HistoryBuffer:
    """Verification rows waiting to be written, and the thread that writes them."""

    def __init__(self, engine: Callable[[], Engine], *, interval: float = 1.0) -> None:
        self._engine = engine
        self.interval = interval
        self._rows: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._writer: threading.Thread | None = None
        self._pid = 0
        atexit.register(self.close)

    def record(
        self,
        certificate_id: str,
        verified_at: datetime,
        method: str,
        result: str,
        organisation: str | None,
    ) -> None:
        """Queue one verification for the holder's history."""
        row = {
            "certificate_id": certificate_id,
            "verified_at": verified_at,
            "method": method,
            "result": result,
            "organisation": organisation,
            "audit_event_id": None,
        }
        with self._lock:
            if len(self._rows) < MAX_BUFFERED:
                self._rows.append(row)
            else:
                log.warning("verification history: buffer full, a row is dropped")
        if self.interval <= 0:
            self.flush()
        elif self._writer is None or self._pid != os.getpid():
            self._start()

    def pending(self) -> int:
        """How many rows wait to be written."""
        with self._lock:
            return len(self._rows)

    def waiting(self) -> list[dict[str, Any]]:
        """A copy of the rows not yet written, oldest first."""
        with self._lock:
            return list(self._rows)

    def flush(self) -> int:
        """Write every buffered row now, in one transaction; returns how many were written.

        Rows stay in the buffer (and in :meth:`waiting`) until their transaction
        has committed; on a database error they stay for the next try and the
        error is raised.
        """
        with self._flush_lock:
            with self._lock:
                rows = list(self._rows)
            if not rows:
                return 0
            with self._engine().begin() as connection:
                _write(connection, rows)
            with self._lock:
                del self._rows[: len(rows)]  # only this method removes rows, under _flush_lock
            return len(rows)

    def _start(self) -> None:
        with self._lock:
            if self._writer is not None and self._pid == os.getpid():
                return
            self._pid = os.getpid()  # a forked child starts a writer of its own
            stop = self._stop = threading.Event()
            self._writer = threading.Thread(
                target=self._run, args=(stop,), name="ipc-verification-history", daemon=True
            )
            self._writer.start()

    def _run(self, stop: threading.Event) -> None:
        while not stop.wait(self.interval):
            try:
                self.flush()
            except Exception:
                log.warning("verification history: write failed, will retry", exc_info=True)

    def close(self) -> None:
        """Stop the writer and write what is left (at interpreter exit, or when the app's
        engine is disposed). A later :meth:`record` starts a new writer."""
        with self._lock:
            writer, self._writer = self._writer, None
            self._stop.set()
        if writer is not None and writer is not threading.current_thread():
            writer.join(timeout=5)
        if self._pid != os.getpid():
            return  # inherited through fork: the parent's rows are the parent's to write
        try:
            self.flush()
        except Exception as exc:
            with self._lock:
                lost, self._rows = len(self._rows), []
            log.warning("verification history: %d rows lost at shutdown: %s", lost, exc)
