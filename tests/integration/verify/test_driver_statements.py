"""Statements run on the driver's own cursor return what SQLAlchemy returns, and survive a
dead connection (certificate/driver_statements.py)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import bindparam, event, literal_column, select, table
from sqlalchemy.exc import DBAPIError

from certificate.driver_statements import DriverStatement, fetch
from certificate.runtime import runtime
from certificate.verify.lookup import _BY_ID, _BY_PDF
from tests.conftest import issue_certificate


@pytest.fixture
def certificate_id(app: Flask, client: FlaskClient, auth: dict[str, str]) -> str:
    return str(issue_certificate(app, client, auth, "Ødegård")["id"])


def test_rows_are_what_sqlalchemy_returns(app: Flask, certificate_id: str) -> None:
    with app.app_context():
        connections = runtime().verifier.reader.connections
        engine = connections.engine
        statement = DriverStatement.compile(_BY_ID, engine.dialect)
        [row] = fetch(connections, statement, {"id": certificate_id})
        with engine.connect() as connection:
            expected = tuple(connection.execute(_BY_ID, {"id": certificate_id}).one())
    assert row == expected
    # decrypted names, aware times, a date: the columns' own result processors ran
    assert "Ødegård" in row
    assert row[5].tzinfo is not None
    assert fetch(connections, statement, {"id": "NOT-A-NUMBER"}) == []
    pdf = DriverStatement.compile(_BY_PDF, engine.dialect)  # binds its own LIMIT
    assert fetch(connections, pdf, {"digest": "0" * 64}) == []


def test_a_token_verification_leaves_the_stored_token_unread(
    app: Flask, certificate_id: str
) -> None:
    with app.app_context():
        reader = runtime().verifier.reader
        sealed = reader.by_id(certificate_id)
        unsealed = reader.by_id(certificate_id, token=False)
    assert sealed is not None
    assert sealed.token is not None
    assert sealed.token.startswith("eyJ")
    assert unsealed == dataclasses.replace(sealed, token=None)


def test_a_dead_connection_is_replaced_once(app: Flask, certificate_id: str) -> None:
    with app.app_context():
        connections = runtime().verifier.reader.connections
    connections.dispose()
    connection = connections.take()
    dbapi: Any = connection.dbapi_connection
    connections.give_back(connection)  # kept for the next statement, then it dies
    dbapi.close()
    statement = DriverStatement.compile(_BY_ID, connections.engine.dialect)
    [row] = fetch(connections, statement, {"id": certificate_id})
    assert row[0] == certificate_id
    kept = connections.take()  # the dead one went back to the pool; its replacement is kept
    assert kept is not connection
    assert kept.dbapi_connection is not dbapi
    connections.give_back(kept)


def test_connections_are_kept_between_statements_and_closed_by_dispose(
    app: Flask, certificate_id: str
) -> None:
    """One connection serves statement after statement without going back to the pool;
    dispose closes it."""
    with app.app_context():
        connections = runtime().verifier.reader.connections
    connections.dispose()
    pool = connections.engine.pool
    checkouts: list[object] = []
    event.listen(pool, "checkout", lambda *args: checkouts.append(args[0]))
    statement = DriverStatement.compile(_BY_ID, connections.engine.dialect)
    for _ in range(5):
        [row] = fetch(connections, statement, {"id": certificate_id})
        assert row[0] == certificate_id
    assert len(checkouts) == 1
    kept = connections.take()
    dbapi: Any = kept.dbapi_connection
    connections.give_back(kept)
    connections.dispose()
    assert pool.checkedout() == 0
    with pytest.raises(Exception, match="(?i)closed"):
        dbapi.cursor().execute("SELECT 1")


def test_postgresql_prepares_a_statement_once_per_connection(
    app: Flask, certificate_id: str
) -> None:
    """On PostgreSQL a statement runs through libpq, prepared on first use on each
    connection; one deallocated behind its back is prepared again."""
    with app.app_context():
        connections = runtime().verifier.reader.connections
    engine = connections.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("libpq's prepared statements are PostgreSQL's")
    connections.dispose()  # one connection from here on, kept between statements
    statement = DriverStatement.compile(_BY_ID, engine.dialect)
    assert statement.prepared_as is not None

    def prepared_here(sql: str = "") -> list[str]:
        connection = connections.take()
        try:
            cursor = connection.cursor()
            if sql:
                cursor.execute(sql)
            cursor.execute("SELECT name FROM pg_prepared_statements WHERE name LIKE 'ipc\\_%'")
            return [name for (name,) in cursor.fetchall()]
        finally:
            connections.give_back(connection)

    for _ in range(3):
        [row] = fetch(connections, statement, {"id": certificate_id})
        assert row[0] == certificate_id
    assert prepared_here() == [statement.prepared_as.decode()]
    assert prepared_here("DEALLOCATE ALL") == []
    [row] = fetch(connections, statement, {"id": certificate_id})
    assert row[0] == certificate_id
    assert prepared_here() == [statement.prepared_as.decode()]


def test_a_failing_statement_is_a_dbapi_error_without_its_values(app: Flask) -> None:
    with app.app_context():
        connections = runtime().verifier.reader.connections
    missing = select(literal_column("id")).select_from(table("no_such_table"))
    broken = DriverStatement.compile(
        missing.where(literal_column("id") == bindparam("id")), connections.engine.dialect
    )
    with pytest.raises(DBAPIError) as raised:
        fetch(connections, broken, {"id": "SECRET-NUMBER"})
    assert "SECRET-NUMBER" not in str(raised.value)
