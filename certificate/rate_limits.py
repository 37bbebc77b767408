"""Rate limits that every process of a deployment counts together.

The ``limits`` library counts (fixed windows); this module decorates the
views that have a limit (:func:`per_client`), chooses where the counts live
and who the client is. Only decorated views pay anything: a request to any
other route does no rate-limit work at all, and a limited one costs one
counter update (Flask-Limiter, used before, resolved and filtered its limits
on every request of every route: a third of a verification's CPU).

Where the counts live:

* ``IPC_RATE_LIMIT_STORAGE_URL`` set (``redis://host:port/db``): limits'
  Redis storage. Every hit is one atomic ``INCR``: the limit is exact across
  any number of processes and machines.
* Unset: the service's database, through :class:`BatchedDatabaseStorage`
  (on SQLite a file of their own beside it, :func:`counters_url`).
  A process counts hits in memory and adds them to the shared
  ``rate_limit_counters`` row once every ``batch`` hits of a client, reading
  back the total of every process. ``batch`` is ``IPC_RATE_LIMIT_BATCH``
  (default 5) or one hundredth of the limit, whichever is larger: a limit of
  120 a minute is shared every 5 hits, one of 100,000 every 1,000 (five hits
  late on such a limit would be precision nobody needs, bought with a write
  every fifth request). A verification therefore costs a database write
  only once in that many requests, and each process over-admits by at most
  ``batch`` hits before it sees the others' counts: with ``P`` processes a
  limit of ``N`` admits at most ``N + P * max(IPC_RATE_LIMIT_BATCH, N / 100)``
  in a window (one process alone: exactly ``N``). docs/security.md states
  the trade-off.
* ``memory://``: each process alone (a single-process laptop or a test).

Who the client is: the connecting address, unless ``IPC_TRUSTED_PROXIES=N``
says that N reverse proxies stand in front of the service; then werkzeug's
``ProxyFix`` takes the client's address from the N-th ``X-Forwarded-For``
entry from the right, which the nearest proxy appended (entries a client
wrote itself further left are ignored). Never set it higher than the number
of proxies: a client could then choose its own address.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, wraps
from typing import Any, TypeVar, cast

from flask import Flask, current_app, request
from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import (
    Float,
    Integer,
    String,
    Table,
    bindparam,
    case,
    create_engine,
    delete,
    event,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.schema import CreateIndex, CreateTable
from werkzeug.exceptions import TooManyRequests
from werkzeug.middleware.proxy_fix import ProxyFix

from certificate.db import Base, configure_sqlite
from certificate.driver_statements import DriverStatement, KeptConnections, execute, fetch

log = logging.getLogger(__name__)

DATABASE_SCHEME = "ipc+database"
DEFAULT_BATCH = 5
#: a process shares its count at least once per this share of the limit (1%)
LIMIT_SHARE = 100
#: a process deletes the rows of windows that ended an hour ago once in this many flushes
PURGE_EVERY = 64


class RateLimitCounter(Base):
    """The hits every process has flushed for one client and limit, in the current window."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    # the window's end, in seconds since the epoch (limits' own clock)
    expires_at: Mapped[float] = mapped_column(Float, index=True)


def _upsert(dialect_name: str) -> Any:
    """Add ``:hits`` to ``:key``'s row (a new window when the row's has ended at ``:now``),
    returning the row's hits and end. Built once: a flush only binds values."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    table = RateLimitCounter.__table__
    insert = dialect.insert(table).values(
        key=bindparam("key"), hits=bindparam("hits"), expires_at=bindparam("expires_at")
    )
    expired = table.c.expires_at <= bindparam("now")
    return insert.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={
            "hits": case(
                (expired, insert.excluded.hits), else_=table.c.hits + insert.excluded.hits
            ),
            "expires_at": case((expired, insert.excluded.expires_at), else_=table.c.expires_at),
        },
    ).returning(table.c.hits, table.c.expires_at)


_PURGE = delete(RateLimitCounter).where(RateLimitCounter.expires_at <= bindparam("before"))


def _commit_without_waiting_for_disk(dbapi_connection: Any, _record: Any) -> None:
    """PostgreSQL: this engine's commits do not wait for their WAL to reach the disk."""
    cursor = dbapi_connection.cursor()
    cursor.execute("SET synchronous_commit TO OFF")
    cursor.close()
    dbapi_connection.commit()


@dataclass
class _Window:
    expires_at: float
    shared: int = 0  # every process's hits, as read at this process's last flush
    pending: int = 0  # this process's hits not yet added to the shared row


def counters_url(database_url: str) -> str:
    """Where the database store keeps its counts: the service's database, except on SQLite.

    SQLite has one write lock per file. In the service's own file a counter's
    flush, on the request path, waited for that lock behind the background
    writes (the verification history, the audit chain's sealing): the slowest
    verifications waited 80 ms and more for it. A file of their own beside it
    (``<database>-rate-limits``, like SQLite's own ``-wal``) is locked only by
    the counts' short upserts. Its rows are counts that may be lost, so it needs
    no backup.
    """
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return database_url
    if url.database.startswith("file:"):  # an SQLite URI names its own options
        return database_url
    return url.set(database=f"{url.database}-rate-limits").render_as_string(hide_password=False)


def _create_counters_table(engine: Engine) -> None:
    """The counters' table in their own SQLite file (every worker starting may try at once)."""
    table = cast(Table, RateLimitCounter.__table__)
    with engine.begin() as connection:
        connection.execute(CreateTable(table, if_not_exists=True))
        for index in table.indexes:
            connection.execute(CreateIndex(index, if_not_exists=True))


class BatchedDatabaseStorage(Storage):
    """limits' storage interface over the service's database, written in batches.

    Fixed windows only (Flask-Limiter's default strategy). See the module's
    docstring for the bound on over-admission.
    """

    STORAGE_SCHEME = [DATABASE_SCHEME]

    def __init__(
        self,
        uri: str | None = None,
        wrap_exceptions: bool = False,
        *,
        database_url: str = "",
        batch: int = DEFAULT_BATCH,
        **options: Any,
    ) -> None:
        super().__init__(uri, wrap_exceptions)
        if not database_url:
            raise ValueError("the database rate-limit storage needs database_url")
        self.batch = max(1, int(batch))
        # Each statement commits by itself (one round trip per flush, no BEGIN or COMMIT);
        # no pre-ping: a connection found dead is replaced when used (driver_statements).
        database_url = counters_url(database_url)
        autocommit = {} if database_url.startswith("sqlite") else {"isolation_level": "AUTOCOMMIT"}
        self._engine: Engine = create_engine(database_url, **autocommit)
        # Counts are worth less than the disk's wait: a crash may forget the last few
        # flushes (a client then gets a few more requests in that window), nothing else.
        if self._engine.dialect.name == "sqlite":
            configure_sqlite(self._engine, durable=False)
        else:
            event.listen(self._engine, "connect", _commit_without_waiting_for_disk)
        dialect = self._engine.dialect
        self._connections = KeptConnections(self._engine)
        self._upsert = DriverStatement.compile(_upsert(dialect.name), dialect)
        self._purge = DriverStatement.compile(_PURGE, dialect)
        self._flushes = itertools.count(1)  # next() is atomic in CPython: no lock needed
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()
        # SQLite: the counts' own file gets its table on first use
        self._table_ready = self._engine.dialect.name != "sqlite"

    def _ready(self) -> None:
        """Create the counts' table in their own SQLite file, once, when first used: not
        when the app is built, so that commands which never count (checking a PDF
        offline) open no file."""
        if not self._table_ready:
            _create_counters_table(self._engine)
            self._table_ready = True

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1, *, limit: int = 0) -> int:
        """Count ``amount`` hits; return every process's count as this process knows it.

        ``limit``, the number of hits the window allows (when the caller knows it),
        widens the batch to a hundredth of it (:data:`LIMIT_SHARE`)."""
        batch = max(self.batch, limit // LIMIT_SHARE)
        with self._lock:
            now = time.time()
            window = self._windows.get(key)
            if window is None or window.expires_at <= now:
                window = self._windows[key] = _Window(expires_at=now + expiry)
            window.pending += amount
            if window.pending >= batch:
                self._flush(key, window, expiry, now)
            return window.shared + window.pending

    def _flush(self, key: str, window: _Window, expiry: int, now: float) -> None:
        """Add this process's pending hits to the shared row and read back the total.

        On the request path, so on the driver's own connection: one statement,
        already compiled, committing by itself (without waiting for the disk).
        """
        self._ready()
        values = {"key": key, "hits": window.pending, "expires_at": now + expiry, "now": now}
        rows = fetch(self._connections, self._upsert, values)
        hits, expires_at = rows[0] if rows else (0, 0.0)  # RETURNING always gives the row
        # windows that ended long ago: one small delete every so many flushes keeps the
        # table small (not by the key's hash: a client whose key hashed to it paid for a
        # delete on every flush, and one whose did not never did)
        if next(self._flushes) % PURGE_EVERY == 0:
            execute(self._connections, self._purge, {"before": now - 3600})
        window.shared, window.pending, window.expires_at = int(hits), 0, float(expires_at)

    def get(self, key: str) -> int:
        """This process's view of the count (shared at its last flush, plus its own since)."""
        with self._lock:
            window = self._windows.get(key)
            if window is None or window.expires_at <= time.time():
                return 0
            return window.shared + window.pending

    def get_expiry(self, key: str) -> float:
        """When the window ends (seconds since the epoch)."""
        with self._lock:
            window = self._windows.get(key)
            return window.expires_at if window is not None else time.time()

    def dispose(self) -> None:
        """Close the engine's connections."""
        self._connections.dispose()

    def check(self) -> bool:
        """Whether the database answers."""
        try:
            with self._engine.connect() as connection:
                connection.execute(select(1))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        """Forget every count, here and in the database."""
        with self._lock:
            self._windows.clear()
        self._ready()
        with self._engine.begin() as connection:
            return int(connection.execute(delete(RateLimitCounter)).rowcount or 0)

    def clear(self, key: str) -> None:
        """Forget one client's count."""
        with self._lock:
            self._windows.pop(key, None)
        self._ready()
        with self._engine.begin() as connection:
            connection.execute(delete(RateLimitCounter).where(RateLimitCounter.key == key))


EXTENSION_KEY = "ipc.rate_limits"


class FixedWindow(FixedWindowRateLimiter):
    """limits' fixed window, telling the database store the limit a hit counts against
    (its batch grows with the limit: :meth:`BatchedDatabaseStorage.incr`)."""

    def hit(self, item: RateLimitItem, *identifiers: str, cost: int = 1) -> bool:
        """Count ``cost`` hits of ``identifiers`` against ``item``; whether within it."""
        storage = self.storage
        if not isinstance(storage, BatchedDatabaseStorage):
            return super().hit(item, *identifiers, cost=cost)
        key = item.key_for(*identifiers)
        return storage.incr(key, item.get_expiry(), cost, limit=item.amount) <= item.amount


def init_app(app: Flask) -> None:
    """Choose the counters' storage."""
    url = app.config.get("RATE_LIMIT_STORAGE_URL") or ""
    storage: Storage
    if url:
        found = storage_from_string(url)
        if not isinstance(found, Storage):
            raise ValueError(f"IPC_RATE_LIMIT_STORAGE_URL names an asynchronous storage: {url}")
        storage = found
    else:
        storage = BatchedDatabaseStorage(
            database_url=app.config["SQLALCHEMY_DATABASE_URI"],
            batch=int(app.config["RATE_LIMIT_BATCH"]),
        )
    app.extensions[EXTENSION_KEY] = FixedWindow(storage)


def trust_proxies(app: Flask) -> None:
    """Take the client's address from the configured number of proxies' headers.

    Installed last, around every other WSGI layer (the verification lane
    included), so that each of them counts limits against the real client.
    """
    proxies = int(app.config["TRUSTED_PROXIES"])
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]


def store_of(app: Flask) -> BatchedDatabaseStorage | None:
    """The counters' own database store of ``app``, if they have one (not with Redis)."""
    limiter = app.extensions.get(EXTENSION_KEY)
    if limiter is not None and isinstance(limiter.storage, BatchedDatabaseStorage):
        return limiter.storage
    return None


def dispose(app: Flask) -> None:
    """Close the counters' own database engine, if they have one."""
    store = store_of(app)
    if store is not None:
        store.dispose()


def client_address() -> str:
    """The address limits are counted against (``ProxyFix`` has set it behind proxies)."""
    return request.remote_addr or "unknown"


F = TypeVar("F", bound=Callable[..., Any])


@lru_cache(maxsize=32)
def _limit(notation: str) -> RateLimitItem:
    return parse(notation)


def per_client(setting: str, scope: str, *, methods: tuple[str, ...] = ()) -> Callable[[F], F]:
    """Count each client's requests to the decorated view(s) against the limit in ``setting``.

    ``scope`` names the budget: views decorated with the same scope share one
    (every way of verifying counts against ``verification``). ``methods``,
    when given, limits only requests with those methods (a log-in form's
    POST, not its GET). Over the budget: 429 with ``Retry-After``. When the
    counters' storage fails the request is let through and the failure
    logged: a broken counter must not stop the service. ``RATELIMIT_ENABLED
    = False`` (tests) turns every limit off.
    """

    def decorate(view: F) -> F:
        @wraps(view)
        def limited(*args: Any, **kwargs: Any) -> Any:
            if (not methods or request.method in methods) and not count_once(
                current_app, request.environ, setting, scope
            ):
                limiter = current_app.extensions[EXTENSION_KEY]
                item = _limit(str(current_app.config[setting]))
                reset, _ = limiter.get_window_stats(item, scope, client_address())
                raise TooManyRequests(retry_after=max(1, int(reset - time.time()) + 1))
            return view(*args, **kwargs)

        return limited  # type: ignore[return-value]

    return decorate


#: WSGI environ key: ``{scope: admitted}`` for the budgets this request was counted against.
COUNTED = "ipc.rate_limits.counted"


def count_once(app: Flask, environ: dict[str, Any], setting: str, scope: str) -> bool:
    """Count this request against ``scope`` once, whichever layer asks first (the
    verification lane, then the view it hands a request to); whether it is within budget."""
    counted: dict[str, bool] = environ.setdefault(COUNTED, {})
    if scope not in counted:
        counted[scope] = admits(app, setting, scope, environ.get("REMOTE_ADDR") or "unknown")
    return counted[scope]


def admits(app: Flask, setting: str, scope: str, client: str) -> bool:
    """Count one request of ``client`` against ``scope``'s budget (the limit in ``setting``);
    False when it is over. A failing store admits (and is logged); so does every request
    when ``RATELIMIT_ENABLED`` is off."""
    config = app.config
    if not config.get("RATELIMIT_ENABLED", True):
        return True
    try:
        return bool(app.extensions[EXTENSION_KEY].hit(_limit(str(config[setting])), scope, client))
    except Exception:  # the counters' store failed, not the request
        log.exception("rate limit %s: the counter could not be updated", scope)
        return True
