"""The database rate-limit store keeps its table small (rows of windows that ended an
hour ago are deleted every so many flushes, whoever the client is) and shares a
process's count every batch of hits or hundredth of the limit, whichever is more."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from limits import parse
from sqlalchemy import create_engine, text

from certificate.rate_limits import PURGE_EVERY, BatchedDatabaseStorage, FixedWindow, counters_url

KEY = "LIMITER/verification/192.0.2.7"
EXPIRY = 60


def test_windows_that_ended_an_hour_ago_are_deleted_every_so_many_flushes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'service.sqlite3'}"
    store = BatchedDatabaseStorage(database_url=url, batch=1)  # every hit flushes
    store.reset()
    engine = create_engine(counters_url(url))
    try:
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO rate_limit_counters VALUES ('old', 9, :ended)"),
                {"ended": time.time() - 2 * 3600},
            )
        for _ in range(PURGE_EVERY - 1):
            store.incr(KEY, EXPIRY)
        with engine.connect() as connection:
            assert (
                connection.execute(text("SELECT count(*) FROM rate_limit_counters")).scalar() == 2
            )
        store.incr(KEY, EXPIRY)
        with engine.connect() as connection:
            keys = connection.execute(text("SELECT key, hits FROM rate_limit_counters")).all()
        assert [tuple(row) for row in keys] == [(KEY, PURGE_EVERY)]
    finally:
        engine.dispose()
        store.dispose()


@pytest.mark.parametrize(("notation", "batch"), [("120/minute", 5), ("10000/minute", 100)])
def test_a_process_shares_its_count_every_batch_or_hundredth_of_the_limit(
    tmp_path: Path, notation: str, batch: int
) -> None:
    url = f"sqlite:///{tmp_path / 'service.sqlite3'}"
    store = BatchedDatabaseStorage(database_url=url, batch=5)
    store.reset()
    limiter, limit = FixedWindow(store), parse(notation)
    engine = create_engine(counters_url(url))

    def shared() -> list[int]:
        with engine.connect() as connection:
            return list(connection.execute(text("SELECT hits FROM rate_limit_counters")).scalars())

    try:
        for _ in range(batch - 1):
            assert limiter.hit(limit, "verification", "192.0.2.7")
        assert shared() == []  # all still this process's own
        assert limiter.hit(limit, "verification", "192.0.2.7")
        assert shared() == [batch]
        # alone, the process still admits exactly the limit
        admitted = batch + sum(
            limiter.hit(limit, "verification", "192.0.2.7") for _ in range(limit.amount)
        )
        assert admitted == limit.amount
    finally:
        engine.dispose()
        store.dispose()
