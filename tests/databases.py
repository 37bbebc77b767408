"""A fresh database for each test: a file on SQLite, a new database on PostgreSQL.

With ``IPC_TEST_DATABASE_URL`` set (CI sets a throw-away PostgreSQL cluster's
URL) every test gets its own database, created from ``template0`` and
dropped afterwards, so tests and the service processes they start never see
each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool


def server_url() -> str | None:
    """The PostgreSQL server to test against, if any."""
    return os.environ.get("IPC_TEST_DATABASE_URL") or None


@contextmanager
def fresh_database(directory: Path) -> Iterator[str]:
    """The URL of an empty database that lives as long as the context."""
    base = server_url()
    if base is None:
        yield f"sqlite:///{directory / 'test.sqlite3'}"
        return
    name = f"ipc_test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
