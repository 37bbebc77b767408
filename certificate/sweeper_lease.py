"""One sweeper per install: which of the embedded engine's processes sweeps.

Under gunicorn every worker process runs the embedded job engine, and each
used to run a sweeper: with four workers and the default 2-second interval,
two passes a second over the same due checks, overdue deadlines, owed
certificates and periodic tasks, each a burst of queries and ORM work in a
process that is also answering requests. The passes are safe to repeat, so
this was waste rather than error. Now the process that holds the install's
sweeper lease sweeps, and the others only ask for the lease at each
interval. When its holder stops or dies the lease is free at once, and
another process takes it within one interval (``celery beat``, one per
install, does the same for the Celery engine).

* PostgreSQL: a session advisory lock, held on a connection of the lease's
  own (which the other processes keep open too, so that asking is one round
  trip). The server releases it when that connection closes, the process
  dying included; the holder checks its connection at every interval, and a
  holder whose connection was lost asks anew at the next.
* SQLite: an exclusive ``flock`` on ``<database>-sweeper.lock`` beside the
  database, which the kernel releases when the process ends.
* An in-memory SQLite database belongs to one process: its lease is always held.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from typing import IO

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

#: The advisory lock's key (the audit chain holds 4242, start-up's preparation 4243).
LOCK_KEY = 4244


class SweeperLease:
    """This process's claim to be the install's one sweeper."""

    def __init__(self, database_url: str) -> None:
        url = make_url(database_url)
        self._postgres = url.get_backend_name() == "postgresql"
        self._url = database_url
        database = (url.database or "").removeprefix("file:")  # an SQLite URI's path
        in_memory = database in ("", ":memory:") or url.query.get("mode") == "memory"
        self._lock_path = None if self._postgres or in_memory else f"{database}-sweeper.lock"
        self._connection: Connection | None = None
        self._holding = False  # PostgreSQL: whether the connection above holds the lock
        self._file: IO[bytes] | None = None

    def held(self) -> bool:
        """Whether this process holds the lease, taking it when it is free."""
        if self._postgres:
            return self._hold_advisory_lock()
        if self._lock_path is None:
            return True
        return self._hold_file_lock(self._lock_path)

    def release(self) -> None:
        """Give the lease up (another process takes it at its next interval)."""
        if self._connection is not None:
            with contextlib.suppress(SQLAlchemyError):  # a lost connection holds nothing
                self._connection.close()  # the server releases the session's locks
            self._connection.engine.dispose()
            self._connection = None
        self._holding = False
        if self._file is not None:
            self._file.close()  # closing the descriptor releases the flock
            self._file = None

    def _hold_advisory_lock(self) -> bool:
        """Ask on the lease's own connection (kept open, holder or not, so that asking
        is one round trip); a holder checks that its connection, and so the lock, lives."""
        taken_now = False
        try:
            if self._connection is None:
                engine = create_engine(self._url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
                self._connection = engine.connect()
            if self._holding:
                self._connection.execute(text("SELECT 1"))
            else:
                lock = text("SELECT pg_try_advisory_lock(:key)")
                taken_now = bool(self._connection.execute(lock, {"key": LOCK_KEY}).scalar())
                self._holding = taken_now
        except SQLAlchemyError:
            if self._holding:
                log.warning("sweeper lease: its connection was lost; asking anew")
            self.release()  # the server has ended the session, and its lock with it
            return False
        if taken_now:
            _announce_taken()
        return self._holding

    def _hold_file_lock(self, path: str) -> bool:
        if self._file is not None:
            return True
        try:
            lock_file = open(path, "ab")  # noqa: SIM115 - kept open while the lease is held
        except OSError as exc:  # the database's folder is not there yet
            log.warning("sweeper lease: cannot open %s (%s), will retry", path, exc)
            return False
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # another process holds it
            lock_file.close()
            return False
        self._file = lock_file
        _announce_taken()
        return True


def _announce_taken() -> None:
    log.info("sweeper lease taken: process %d sweeps for the install", os.getpid())
