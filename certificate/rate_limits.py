"""Rate limits that every process of a deployment counts together.

Flask-Limiter counts; this module chooses where the counts live and who the
client is:

* ``IPC_RATE_LIMIT_STORAGE_URL`` set (``redis://host:port/db``): limits'
  Redis storage. Every hit is one atomic ``INCR``: the limit is exact across
  any number of processes and machines.
* Unset: the service's own database, through :class:`BatchedDatabaseStorage`.
  A process counts hits in memory and adds them to the shared
  ``rate_limit_counters`` row once every ``IPC_RATE_LIMIT_BATCH`` hits of a
  client (default 5), reading back the total of every process. A
  verification therefore costs a database write only once in that many
  requests, and each process over-admits by at most ``batch`` hits before it
  sees the others' counts: with ``P`` processes a limit of ``N`` admits at
  most ``N + P * batch`` in a window (one process alone: exactly ``N``).
  docs/security.md states the trade-off.
* ``memory://``: each process alone (a single-process laptop or a test).

Who the client is: the connecting address, unless ``IPC_TRUSTED_PROXIES=N``
says that N reverse proxies stand in front of the service; then werkzeug's
``ProxyFix`` takes the client's address from the N-th ``X-Forwarded-For``
entry from the right, which the nearest proxy appended (entries a client
wrote itself further left are ignored). Never set it higher than the number
of proxies: a client could then choose its own address.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from flask import Flask
from limits.storage import Storage
from sqlalchemy import Float, Integer, String, case, create_engine, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.middleware.proxy_fix import ProxyFix

from certificate.db import Base, configure_sqlite

DATABASE_SCHEME = "ipc+database"
DEFAULT_BATCH = 5


class RateLimitCounter(Base):
    """The hits every process has flushed for one client and limit, in the current window."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    # the window's end, in seconds since the epoch (limits' own clock)
    expires_at: Mapped[float] = mapped_column(Float, index=True)


@dataclass
class _Window:
    expires_at: float
    shared: int = 0  # every process's hits, as read at this process's last flush
    pending: int = 0  # this process's hits not yet added to the shared row


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
        database_url: str = "",
        batch: int = DEFAULT_BATCH,
        **options: Any,
    ) -> None:
        super().__init__(uri, wrap_exceptions)
        if not database_url:
            raise ValueError("the database rate-limit storage needs database_url")
        self.batch = max(1, int(batch))
        self._engine: Engine = create_engine(database_url, pool_pre_ping=True)
        if self._engine.dialect.name == "sqlite":
            configure_sqlite(self._engine)
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Count ``amount`` hits; return every process's count as this process knows it."""
        with self._lock:
            now = time.time()
            window = self._windows.get(key)
            if window is None or window.expires_at <= now:
                window = self._windows[key] = _Window(expires_at=now + expiry)
            window.pending += amount
            if window.pending >= self.batch:
                self._flush(key, window, expiry, now)
            return window.shared + window.pending

    def _flush(self, key: str, window: _Window, expiry: int, now: float) -> None:
        """Add this process's pending hits to the shared row and read back the total."""
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        table = RateLimitCounter.__table__
        insert = dialect.insert(table).values(key=key, hits=window.pending, expires_at=now + expiry)
        expired = table.c.expires_at <= now
        statement = insert.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "hits": case(
                    (expired, insert.excluded.hits), else_=table.c.hits + insert.excluded.hits
                ),
                "expires_at": case((expired, insert.excluded.expires_at), else_=table.c.expires_at),
            },
        ).returning(table.c.hits, table.c.expires_at)
        with self._engine.begin() as connection:
            hits, expires_at = connection.execute(statement).one()
            # windows that ended long ago: one small delete now and then keeps the table small
            if hash(key) % 16 == 0:
                connection.execute(
                    delete(RateLimitCounter).where(RateLimitCounter.expires_at <= now - 3600)
                )
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
        with self._engine.begin() as connection:
            return int(connection.execute(delete(RateLimitCounter)).rowcount or 0)

    def clear(self, key: str) -> None:
        """Forget one client's count."""
        with self._lock:
            self._windows.pop(key, None)
        with self._engine.begin() as connection:
            connection.execute(delete(RateLimitCounter).where(RateLimitCounter.key == key))


def configure(app: Flask) -> None:
    """Choose the limiter's storage and trust the configured number of proxies.

    Call before ``limiter.init_app``.
    """
    url = app.config.get("RATE_LIMIT_STORAGE_URL") or ""
    if url:
        app.config["RATELIMIT_STORAGE_URI"] = url
        app.config["RATELIMIT_STORAGE_OPTIONS"] = {}
    else:
        app.config["RATELIMIT_STORAGE_URI"] = f"{DATABASE_SCHEME}://"
        app.config["RATELIMIT_STORAGE_OPTIONS"] = {
            "database_url": app.config["SQLALCHEMY_DATABASE_URI"],
            "batch": int(app.config["RATE_LIMIT_BATCH"]),
        }
    proxies = int(app.config["TRUSTED_PROXIES"])
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
