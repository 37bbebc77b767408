"""Many processes, one database: gunicorn, two Celery workers and the scheduler over Redis.

One worker is killed with SIGKILL in the middle of the run; every application
still completes, with exactly one certificate and one answer per check.
Needs redis-server and PostgreSQL (``IPC_TEST_DATABASE_URL``); CI provides both.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import application_body
from tests.databases import server_url
from tests.live import kill_group, live_service, redis_server

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("redis-server") is None or server_url() is None,
        reason="needs redis-server and PostgreSQL (IPC_TEST_DATABASE_URL)",
    ),
]


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    with redis_server(tmp_path) as url:
        yield url


def _worker(service, name: str):
    return service.spawn(
        "celery",
        "--app",
        "certificate.jobs",
        "worker",
        "--hostname",
        f"{name}@%h",
        "--concurrency",
        "4",
        "--loglevel",
        "INFO",
        "--without-gossip",
        "--without-mingle",
        name=name,
    )


def test_the_journey_survives_a_killed_worker(tmp_path: Path, redis_url: str) -> None:
    with live_service(
        tmp_path,
        server="gunicorn",
        CELERY_BROKER_URL=redis_url,
        SANDBOX_LATENCY_MS="1500",
        LEASE_SECONDS="4",
        SWEEP_INTERVAL_SECONDS="1",
    ) as service:
        doomed = _worker(service, "doomed")
        _worker(service, "survivor")
        service.spawn(
            "celery",
            "--app",
            "certificate.jobs",
            "beat",
            "--schedule",
            str(tmp_path / "beat-schedule"),
            "--loglevel",
            "INFO",
            name="beat",
        )
        http = service.applicant("a@example.org")
        names = ["Okafor", "FLAKY", "Mensah", "RECORD", "Diallo", "NOMATCH"]
        ids = [
            http.post("/api/v1/applications", json=application_body(n)).json()["id"] for n in names
        ]

        # wait until workers are mid-flight (checks claimed, agencies answering), then kill one
        in_flight = 0
        deadline = time.monotonic() + 60
        while in_flight < 4 and time.monotonic() < deadline:
            in_flight = service.query("SELECT count(*) FROM checks WHERE lease_until IS NOT NULL")[
                0
            ][0]
            time.sleep(0.05)
        kill_group(doomed)
        assert in_flight >= 4, "the kill should hit work in flight"

        deadline = time.monotonic() + 120
        pending = set(ids)
        while pending and time.monotonic() < deadline:
            pending = {
                i
                for i in pending
                if http.get(f"/api/v1/applications/{i}").json()["status"] != "complete"
            }
            time.sleep(0.5)
        assert not pending, f"not complete: {pending}\n{service.log_path.read_text()[-3000:]}"

        per_application = dict(
            service.query(
                "SELECT application_id, count(*) FROM certificates GROUP BY application_id"
            )
        )
        assert per_application == dict.fromkeys(ids, 1)
        answers = service.query(
            "SELECT subject_id, count(*) FROM audit_events WHERE action = 'check.answered' "
            "GROUP BY subject_id"
        )
        assert len(answers) == 3 * len(ids)
        assert {n for _, n in answers} == {1}
        issued = service.query(
            "SELECT count(*) FROM audit_events WHERE action = 'certificate.issued'"
        )
        assert issued[0][0] == len(ids)
