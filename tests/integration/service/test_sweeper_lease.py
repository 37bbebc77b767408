"""One sweeper per install: of the processes sharing a database, one holds the lease.

The leases here are real: flock on the SQLite database's lock file, an advisory lock
on PostgreSQL (``IPC_TEST_DATABASE_URL``). The last test runs gunicorn with three
workers and kills the one that sweeps.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from certificate.sweeper_lease import LOCK_KEY, SweeperLease
from tests.databases import fresh_database, server_url
from tests.live import LiveService, live_service, wait_for

#: gunicorn's access log with the answering worker's pid
ACCESS_LOG = "--access-logformat 'served-by %(p)s %(U)s %(s)s'"
SERVED_BY = re.compile(r"served-by <(\d+)> /healthz")
TAKEN = re.compile(r"sweeper lease taken: process (\d+) sweeps")


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    with fresh_database(tmp_path) as url:
        yield url


def test_one_holder_at_a_time_and_the_next_takes_over_on_release(database_url: str) -> None:
    first, second = SweeperLease(database_url), SweeperLease(database_url)
    try:
        assert first.held()
        assert not second.held()
        assert first.held()  # holding it, it keeps it
        first.release()
        assert second.held()
        assert not first.held()
    finally:
        first.release()
        second.release()


def test_an_in_memory_database_is_one_process_own() -> None:
    assert SweeperLease("sqlite://").held()
    assert SweeperLease("sqlite:///:memory:").held()


@pytest.mark.skipif(server_url() is None, reason="needs PostgreSQL (IPC_TEST_DATABASE_URL)")
def test_a_holder_whose_connection_was_lost_gives_way(database_url: str) -> None:
    holder, other = SweeperLease(database_url), SweeperLease(database_url)
    admin = create_engine(database_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        assert holder.held()
        with admin.connect() as connection:  # the server ends the holder's session
            ended = (
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_locks"
                        " WHERE locktype = 'advisory' AND objid = :key"
                    ),
                    {"key": LOCK_KEY},
                )
                .scalars()
                .all()
            )
        assert ended == [True]
        assert other.held()
        assert not holder.held()  # it finds its connection gone, and the lease taken
    finally:
        holder.release()
        other.release()
        admin.dispose()


def _health_on_a_new_connection(service: LiveService) -> int:
    with service.client() as client:
        return client.get("/healthz").status_code


def _taken_by(log: Path) -> list[int]:
    return [int(pid) for pid in TAKEN.findall(log.read_text())]


@pytest.mark.slow
def test_of_three_gunicorn_workers_one_sweeps_and_another_takes_over_when_it_dies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUNICORN_CMD_ARGS", ACCESS_LOG)
    with live_service(
        tmp_path, "gunicorn", WEB_WORKERS="3", SWEEP_INTERVAL_SECONDS="0.3", LOG_FORMAT="json"
    ) as service:
        # each worker starts its engine, and with it a sweeper, on its first request: rounds
        # of concurrent requests on new connections until all three have served one (the
        # kernel hands a connection to whichever worker accepts first, often the same one)
        workers: set[str] = set()
        with ThreadPoolExecutor(8) as pool:
            for _ in range(20):
                statuses = list(pool.map(lambda _: _health_on_a_new_connection(service), range(8)))
                assert statuses == [200] * 8
                workers = set(SERVED_BY.findall(service.log_path.read_text()))
                if len(workers) == 3:
                    break
        assert len(workers) == 3, f"the requests reached {workers} only"

        time.sleep(1.5)  # five intervals: every worker's sweeper has asked for the lease
        holders = _taken_by(service.log_path)
        assert len(holders) == 1, holders
        assert str(holders[0]) in workers

        os.kill(holders[0], signal.SIGKILL)
        successor, *_ = wait_for(
            "another worker to take the lease", lambda: _taken_by(service.log_path)[1:], 10
        )
        assert _taken_by(service.log_path) == [holders[0], successor]
        assert successor != holders[0]
        assert str(successor) in workers
