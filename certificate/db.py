"""The declarative base, the Flask-SQLAlchemy handle, and column types shared by all models."""

from __future__ import annotations

import contextlib
import os
import uuid
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The one declarative base of every model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def new_id() -> str:
    """A random identifier for rows that are not certificates."""
    return uuid.uuid4().hex


def utcnow() -> datetime:
    """The current time, aware, in UTC. Tests move it with the ``clock`` fixture."""
    return datetime.now(UTC)


def private_sqlite_file(engine: Engine) -> None:
    """Create the SQLite file readable by its owner only (0600) before SQLite opens it.

    SQLite gives its WAL and shared-memory files the database file's mode, so
    they are private too. An existing file is made private as well.
    """
    path = engine.url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    with contextlib.suppress(OSError):  # a folder that does not exist: SQLite will say so
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for name in (path, f"{path}-wal", f"{path}-shm"):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            os.chmod(name, 0o600)


def configure_sqlite(engine: Engine, *, durable: bool = True) -> None:
    """Make SQLite safe for a web process with worker threads.

    WAL lets readers proceed beside the writer, a busy timeout waits instead of
    failing, and every transaction starts with ``BEGIN IMMEDIATE`` so that two
    threads never both read and then both try to write (which SQLite would
    refuse at once, whatever the timeout). ``durable=False`` (for counts that
    may be lost, never for the service's records) commits without waiting for
    the disk: the file stays consistent, and a power cut may forget the last
    commits of that engine's connections only.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below start transactions
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        if not durable:
            cursor.execute("PRAGMA synchronous=OFF")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN" if _READS_ONLY.get() else "BEGIN IMMEDIATE")


#: True while the current context only reads (a page or API read): its transactions on
#: SQLite then begin with a plain ``BEGIN`` and never wait for, or hold, the write lock.
_READS_ONLY: ContextVar[bool] = ContextVar("ipc_reads_only", default=False)


def reads_only() -> Token[bool]:
    """Declare that the current context (a request) only reads, until :func:`end_reads_only`.

    Its transactions on SQLite begin without the write lock, so a page read
    neither waits behind a writer nor holds writers up (WAL readers see the
    last commit). Code that turns out to write calls :func:`begin_writing`
    first, as every :func:`~certificate.web.transaction.transactional` view does.
    """
    return _READS_ONLY.set(True)


def end_reads_only(token: Token[bool]) -> None:
    """Undo :func:`reads_only` (at the end of the request)."""
    _READS_ONLY.reset(token)


def begin_writing(session: DbSession) -> None:
    """From here on the current context writes: its transactions take the write lock first.

    A read-only transaction still open is ended (it holds nothing to keep: the
    objects it loaded are read again), so that the writes begin ``IMMEDIATE``.
    On SQLite a transaction that read and then tries to write fails at once if
    another writer committed in between, whatever the busy timeout.
    """
    if not _READS_ONLY.get():
        return
    _READS_ONLY.set(False)
    plain = session() if isinstance(session, scoped_session) else session
    if plain.in_transaction() and not (plain.new or plain.dirty or plain.deleted):
        plain.rollback()


DbSession = Session | scoped_session[Any]
"""What services accept: a plain session, or Flask-SQLAlchemy's scoped ``db.session``."""
