"""Statements compiled once and run on the database driver's own connection.

For the few statements on a hot request path (a verification's read, a
rate-limit counter's flush). SQLAlchemy's execution of a cached statement
still builds an execution context and reads the cursor's description on
every call; with psycopg that description alone (a dozen column objects)
costs more CPU than the query's round trip. A :class:`DriverStatement` is
compiled for the engine's dialect once; each run is the driver's
``execute`` and ``fetchone``, and the columns' own result processors (time
zones, decryption) applied to the row, so what comes back is what the same
statement run through SQLAlchemy returns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import DBAPIError
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

    @classmethod
    def compile(cls, statement: Executable, dialect: Dialect) -> DriverStatement:
        """Compile ``statement`` for ``dialect``."""
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
        return cls(str(compiled), positions, processors, defaults)

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


def fetch(
    engine: Engine, statement: DriverStatement, values: dict[str, Any], *, every: bool = False
) -> list[tuple[Any, ...]]:
    """Run a statement that returns rows on a pooled connection of ``engine`` (in
    autocommit mode): its first row (as a list of at most one), or ``every`` row.

    A connection found dead is discarded and the statement run once more on a new one;
    a driver error is raised as SQLAlchemy's :class:`~sqlalchemy.exc.DBAPIError`.
    """
    raw = _run(engine, statement, values, lambda c: c.fetchall() if every else [c.fetchone()])
    return [row for row in map(statement.row, raw) if row is not None]


def execute(engine: Engine, statement: DriverStatement, values: dict[str, Any]) -> None:
    """Run a statement that returns no rows, as :func:`fetch` runs one that does."""
    _run(engine, statement, values, lambda _cursor: [])


def _run(
    engine: Engine,
    statement: DriverStatement,
    values: dict[str, Any],
    read: Callable[[Any], Sequence[Any]],
) -> Sequence[Any]:
    dialect = engine.dialect
    for attempt in (1, 2):
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(statement.sql, statement.parameters(values))
                rows = read(cursor)
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
            connection.close()
        return rows
    raise AssertionError("unreachable")  # pragma: no cover
