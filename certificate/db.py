"""The declarative base, the Flask-SQLAlchemy handle, and column types shared by all models."""

from __future__ import annotations

import contextlib
import os
import uuid
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
        conn.exec_driver_sql("BEGIN IMMEDIATE")


DbSession = Session | scoped_session[Any]
"""What services accept: a plain session, or Flask-SQLAlchemy's scoped ``db.session``."""
