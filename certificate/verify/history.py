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

Each batch is sealed into the audit log in its own transaction: one
``certificate.verifications`` event (how many rows, the first and last id,
a SHA-256 of the rows' content), and every row is written already pointing
to it. The ids are drawn before the event is written (from the table's
sequence on PostgreSQL; on SQLite, whose writers are serialised, after the
largest), so the event can name them, and nothing is read back or updated
afterwards. ``audit verify`` recomputes the digest
(:func:`certificate.verify.service.verifications_problem`).
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from certificate.audit import AuditEvent, record_event
from certificate.db import DbSession
from certificate.issuance.models import CertificateVerification

log = logging.getLogger(__name__)

#: Rows kept in memory while the database cannot be written (nearly an hour at 30 a second).
MAX_BUFFERED = 100_000

_TABLE: Table = CertificateVerification.__table__  # type: ignore[assignment]
_INSERT = insert(_TABLE)
#: what a row holds
_COLUMNS = (
    "id",
    "certificate_id",
    "verified_at",
    "method",
    "result",
    "organisation",
    "audit_event_id",
)
_COPY = f"COPY {_TABLE.name} ({', '.join(_COLUMNS)}) FROM STDIN"
_NEXT_IDS = text(
    "SELECT array_agg(nextval(pg_get_serial_sequence(:table, 'id'))) FROM generate_series(1, :n)"
)

#: the audit action that seals a batch of verifications
VERIFICATIONS_ACTION = "certificate.verifications"


#: a string as ``json.dumps(..., ensure_ascii=False)`` writes it, quotes included
_STRING = json.encoder.encode_basestring


def _line(row: Mapping[Any, Any]) -> str:
    """One row's line: ``json.dumps([id, certificate, time to the second, method, result,
    organisation], ensure_ascii=False)`` and a newline, written out (a third of the time)."""
    organisation = row["organisation"]
    return (
        f"[{row['id']:d}, {_STRING(row['certificate_id'])}, "
        f"{_STRING(row['verified_at'].isoformat(timespec='seconds'))}, "
        f"{_STRING(row['method'])}, {_STRING(row['result'])}, "
        f"{'null' if organisation is None else _STRING(organisation)}]\n"
    )


def verifications_digest(rows: Iterable[Mapping[Any, Any]]) -> str:
    """SHA-256 over the rows' content, in id order: what a batch's audit event seals."""
    return hashlib.sha256("".join(map(_line, rows)).encode()).hexdigest()


#: How many rows the writer handles between two pauses, and how long it pauses.
PACE_ROWS = 100
PACE_SECONDS = 0.0001

T = TypeVar("T")


def _paced(items: Iterable[T]) -> Iterator[T]:
    """``items``, the calling thread pausing briefly after every :data:`PACE_ROWS` of them.

    The writer shares its process's interpreter lock with the threads answering
    requests, and CPython hands the lock to a waiting thread only when its holder
    blocks or after the switch interval (5 ms). A batch's rows prepared in one
    stretch (a thousand: some 10 ms of CPU) held every answer of the process back
    for that long, once a second: most of the verify benchmark's p99. Paused every
    hundred rows, the writer lets the answers waiting for the lock run first.
    """
    for index, item in enumerate(items):
        if index and not index % PACE_ROWS:
            time.sleep(PACE_SECONDS)
        yield item


def _draw_ids(connection: Connection, count: int) -> list[int]:
    """``count`` new ids for the table, ascending, before the rows are written."""
    if connection.dialect.name == "postgresql":  # one array: a row each costs 1 µs more
        return sorted(
            connection.execute(_NEXT_IDS, {"table": _TABLE.name, "n": count}).scalar_one()
        )
    # SQLite: this transaction began IMMEDIATE, so no other writer can take these
    largest = connection.execute(select(func.max(_TABLE.c.id))).scalar_one_or_none() or 0
    return list(range(largest + 1, largest + 1 + count))


def seal_batch(session: DbSession, rows: Sequence[Mapping[Any, Any]]) -> AuditEvent:
    """Append the audit event that seals ``rows`` (ids drawn, in id order) to the chain,
    in the session's transaction: how many, the first and last id, their content's digest."""
    first, last = rows[0]["id"], rows[-1]["id"]
    return record_event(
        session,
        actor="public",
        action=VERIFICATIONS_ACTION,
        subject_type="verifications",
        subject_id=f"{first}-{last}",
        details={
            "count": len(rows),
            "first": first,
            "last": last,
            "sha256": verifications_digest(_paced(rows)),
        },
        at=max(row["verified_at"] for row in rows),
    )


def _seal(connection: Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with their ids and the id of the audit event that seals them, that event
    appended to the chain in the connection's transaction."""
    ids = _draw_ids(connection, len(rows))
    sealed = [{**row, "id": id_} for row, id_ in _paced(zip(rows, ids, strict=True))]
    with Session(bind=connection) as session:  # joins the transaction, never ends it
        event_id = seal_batch(session, sealed).id
    for row in sealed:  # copies of the buffered rows: the buffer's own stay as recorded
        row["audit_event_id"] = event_id
    return sealed


def _write(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` in the connection's transaction: by ``COPY`` on PostgreSQL (psycopg),
    the columns' own bind processing applied as an ``INSERT`` would; else one ``INSERT``
    of many rows."""
    dialect = connection.dialect
    if dialect.driver != "psycopg":
        connection.execute(_INSERT, rows)
        return
    processors = [
        (index, process)
        for index, name in enumerate(_COLUMNS)
        if (process := _TABLE.c[name].type.dialect_impl(dialect).bind_processor(dialect))
    ]
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor, cursor.copy(_COPY) as copy:
        for row in _paced(rows):
            values = list(map(row.get, _COLUMNS))
            for index, process in processors:
                if values[index] is not None:
                    values[index] = process(values[index])
            copy.write_row(values)


#: how many times this process's ancestry forked; a buffer compares it with its own
#: (a system call such as ``os.getpid()`` on every answer costs more than the rest of it)
_forks = 0


def _count_fork() -> None:
    global _forks
    _forks += 1


os.register_at_fork(after_in_child=_count_fork)


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
        #: the fork generation (:data:`_forks`) whose writer this is; -1 before the first
        self._generation = -1
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
        }
        with self._lock:
            if len(self._rows) < MAX_BUFFERED:
                self._rows.append(row)
            else:
                log.warning("verification history: buffer full, a row is dropped")
        if self.interval <= 0:
            self.flush()
        elif self._writer is None or self._generation != _forks:
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
                _write(connection, _seal(connection, rows))
            with self._lock:
                del self._rows[: len(rows)]  # only this method removes rows, under _flush_lock
            return len(rows)

    def _start(self) -> None:
        with self._lock:
            if self._writer is not None and self._generation == _forks:
                return
            self._generation = _forks  # a forked child starts a writer of its own
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
        if self._generation != _forks:
            return  # inherited through fork: the parent's rows are the parent's to write
        try:
            self.flush()
        except Exception as exc:
            with self._lock:
                lost, self._rows = len(self._rows), []
            log.warning("verification history: %d rows lost at shutdown: %s", lost, exc)
