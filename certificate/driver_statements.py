"""Statements compiled once and run on the database driver's own connection.

For the few statements on a hot request path (a verification's read, a
rate-limit counter's flush). SQLAlchemy's execution of a cached statement
still builds an execution context and reads the cursor's description on
every call; with psycopg that description alone (a dozen column objects)
costs more CPU than the query's round trip. A :class:`DriverStatement` is
compiled for the engine's dialect once; each run is the driver's
``execute`` and fetch, and the columns' own result processors (time
zones, decryption) applied to the rows, so what comes back is what the same
statement run through SQLAlchemy returns.

On PostgreSQL (psycopg) a run goes one level lower still: the statement is
prepared once per connection under a name of its own, and each run is
libpq's ``PQexecPrepared`` on the connection's ``pgconn``, the rows loaded by
psycopg's own :class:`~psycopg.adapt.Transformer` (the loaders its cursor
uses). psycopg's cursor spends some 20 µs of CPU a query on its own
bookkeeping (the query's conversion, its prepared-statement cache, locks,
the result's description): more than the libpq call, and most of what a
verification's read costs the web process.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from psycopg import errors, pq
from psycopg.adapt import PyFormat, Transformer
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql import Executable
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class DriverStatement:
    """One statement, compiled for one dialect, with the result processors of its columns."""

    sql: str
    #: Names of the parameters in the order a positional (``qmark``) driver wants them;
    #: None for drivers that take them by name.
    positions: tuple[str, ...] | None
    processors: tuple[Processor, ...]
    #: Values the statement binds itself (a ``LIMIT``), under the caller's.
    defaults: dict[str, Any]
    #: psycopg: the name the statement is prepared under on each connection (``sql`` is
    #: then in libpq's numbered form, ``$1``); None for a statement run on a cursor.
    prepared_as: bytes | None = None

    @classmethod
    def compile(cls, statement: Executable, dialect: Dialect) -> DriverStatement:
        """Compile ``statement`` for ``dialect``."""
        libpq = dialect.driver == "psycopg"
        if libpq:  # the same dialect, binding by number as PQprepare wants
            dialect = cast(Any, type(dialect))(paramstyle="numeric_dollar")
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect))  # type: ignore[attr-defined]
        columns = getattr(statement, "selected_columns", ())
        processors = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        )
        positions = tuple(compiled.positiontup) if compiled.positiontup is not None else None
        defaults = {
            name: bind.value
            for name, bind in compiled.binds.items()
            if not bind.required and bind.value is not None
        }
        sql = str(compiled)
        name = b"ipc_" + hashlib.sha256(sql.encode()).hexdigest()[:24].encode() if libpq else None
        return cls(sql, positions, processors, defaults, name)

    def parameters(self, values: dict[str, Any]) -> Any:
        """``values`` in the form the driver takes them."""
        values = {**self.defaults, **values} if self.defaults else values
        if self.positions is not None:
            return tuple(values[name] for name in self.positions)
        return values

    def row(self, raw: Sequence[Any] | None) -> tuple[Any, ...] | None:
        """A row as the driver returned it, with each column's result processor applied."""
        if raw is None:
            return None
        if not self.processors:  # a statement whose columns are not known (DML's RETURNING)
            return tuple(raw)
        return tuple(
            value if process is None or value is None else process(value)
            for process, value in zip(self.processors, raw, strict=True)
        )


class KeptConnections:
    """An engine's connections for hot statements, kept checked out between them.

    A connection is taken from a free list (or, when it is empty, from the
    engine's pool) and given back to the list, so that the pool's checkout
    and checkin run once per connection instead of once per statement. The
    list holds at most as many connections as statements ever ran at once.
    A connection found dead (invalidated) goes back to the pool, which
    replaces it. :meth:`dispose` closes the idle ones and the pool's.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._idle: list[PoolProxiedConnection] = []
        self._lock = threading.Lock()

    def take(self) -> PoolProxiedConnection:
        """A connection for one statement; give it back with :meth:`give_back`."""
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return self.engine.raw_connection()

    def give_back(self, connection: PoolProxiedConnection) -> None:
        """Keep ``connection`` for the next statement (or return it to the pool if dead)."""
        if not connection.is_valid:
            connection.close()
            return
        with self._lock:
            self._idle.append(connection)

    def dispose(self) -> None:
        """Close the idle connections and the pool's (a connection in use at that moment
        is kept when given back, and closed by the next dispose)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()
        self.engine.dispose()


def fetch(
    connections: KeptConnections,
    statement: DriverStatement,
    values: dict[str, Any],
    *,
    every: bool = False,
) -> list[tuple[Any, ...]]:
    """Run a statement that returns rows on one of ``connections`` (in autocommit mode):
    its first row (as a list of at most one), or ``every`` row.

    A connection found dead is discarded and the statement run once more on a new one;
    a driver error is raised as SQLAlchemy's :class:`~sqlalchemy.exc.DBAPIError`.
    """
    raw = _run(connections, statement, values, None if every else 1)
    return [row for row in map(statement.row, raw) if row is not None]


def execute(
    connections: KeptConnections, statement: DriverStatement, values: dict[str, Any]
) -> None:
    """Run a statement that returns no rows, as :func:`fetch` runs one that does."""
    _run(connections, statement, values, 0)


def _run(
    connections: KeptConnections,
    statement: DriverStatement,
    values: dict[str, Any],
    limit: int | None,
) -> Sequence[Any]:
    """Run ``statement``; its first ``limit`` rows (every row when None)."""
    dialect = connections.engine.dialect
    for attempt in (1, 2):
        connection = connections.take()
        try:
            rows: Sequence[Any]
            if statement.prepared_as is not None:
                prepared = connection.info.get(_PREPARED)
                if prepared is None:
                    prepared = connection.info[_PREPARED] = _Prepared(connection.dbapi_connection)
                rows = _run_prepared(
                    prepared,
                    statement.prepared_as,
                    statement.sql,
                    statement.parameters(values),
                )
                rows = rows if limit is None else rows[:limit]
            else:
                cursor = connection.cursor()
                try:
                    cursor.execute(statement.sql, statement.parameters(values))
                    rows = cursor.fetchall() if limit is None else cursor.fetchmany(limit)
                finally:
                    cursor.close()
        except dialect.loaded_dbapi.Error as exc:
            dead = dialect.is_disconnect(exc, connection.dbapi_connection, None)
            if dead:
                connection.invalidate(exc)
            if attempt == 2 or not dead:
                raise DBAPIError.instance(
                    statement.sql,
                    None,
                    exc,
                    dialect.loaded_dbapi.Error,
                    hide_parameters=True,  # certificate numbers stay out of error messages
                    connection_invalidated=dead,
                    dialect=dialect,
                ) from exc
            continue
        finally:
            connections.give_back(connection)
        return rows
    raise AssertionError("unreachable")  # pragma: no cover


#: the key, in a pooled connection's ``info`` (which lives and is cleared with the
#: connection itself), of its :class:`_Prepared`
_PREPARED = "ipc.prepared_statements"


class _Prepared:
    """What one psycopg connection keeps for the statements run on it through libpq: the
    names prepared on it, and the transformer that dumps their parameters and loads their
    rows (as a psycopg cursor keeps one; building one costs as much as a run). A kept
    connection serves one statement at a time, so neither is shared between threads."""

    def __init__(self, dbapi_connection: Any) -> None:
        self.pgconn = dbapi_connection.pgconn
        self.names: set[bytes] = set()
        self.loader = Transformer(dbapi_connection)


def _run_prepared(
    prepared: _Prepared,
    name: bytes,
    sql: str,
    parameters: Sequence[Any],
) -> list[tuple[Any, ...]]:
    """Run ``sql`` (numbered parameters) through libpq on a psycopg connection in autocommit
    mode, prepared as ``name`` first if this connection has not prepared it yet (or has
    lost it); every row."""
    pgconn, names, loader = prepared.pgconn, prepared.names, prepared.loader
    dumped = loader.dump_sequence(parameters, [PyFormat.TEXT] * len(parameters))
    for _ in (1, 2):
        if name not in names:
            done = pgconn.prepare(name, sql.encode(loader.encoding))
            if done.status != pq.ExecStatus.COMMAND_OK:
                raise errors.error_from_result(done, encoding=loader.encoding)
            names.add(name)
        result = pgconn.exec_prepared(name, dumped)
        if result.status in (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK):
            loader.set_pgresult(result)
            return loader.load_rows(0, result.ntuples, tuple)
        error = errors.error_from_result(result, encoding=loader.encoding)
        if not isinstance(error, errors.InvalidSqlStatementName):
            raise error
        names.discard(name)  # deallocated by someone: prepare it again
    raise error
