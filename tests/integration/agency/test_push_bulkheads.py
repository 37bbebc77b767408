"""Audit finding 2: one push agency stalled everything. The circuit breaker held its lock for
the whole HTTP call, so calls to one slow agency ran one at a time while waiting threads
filled the pool (a Kenyan sandbox check took 67 s instead of 0.3 s), and the whole-call
deadline was checked only while reading the body (headers sent a byte a second held a call
for 140 s with a 10 s timeout).

Real processes on loopback: the service (a small worker pool, so that a handful of stuck
calls would fill it) and ``tools.agency_simulator`` playing a slow agency and one that
trickles its headers. The sandbox countries' checks are timed against a baseline taken on
the same service just before (after a round that warms it up); the bound is the audit's:
within twice the baseline, while the fault it guards against costs tens of seconds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import application_body
from tests.integration.agency.test_agency_live import (
    Simulator,
    _start_simulator,
    _write_key_pair,
    wait_for,
)
from tests.live import LiveService, free_port, live_service

pytestmark = pytest.mark.slow

FILINGS = 12
SETTINGS = {
    "JOB_WORKERS": "6",
    "PUSH_MAX_CONCURRENT": "2",
    "PUSH_TIMEOUT_SECONDS": "3",
    "PUSH_BREAKER_FAILURES": "1000",  # the breaker is not what is tested here
    "RETRY_BASE_SECONDS": "0.5",
    "RETRY_MAX_SECONDS": "1",
    "MAX_ATTEMPTS": "50",
    "SWEEP_INTERVAL_SECONDS": "0.2",
    "CHECK_DEADLINE_SECONDS": "600",
}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    with live_service(tmp_path_factory.mktemp("bulkheads"), **SETTINGS) as running:
        yield running


@pytest.fixture(scope="module")
def applicant(service: LiveService) -> httpx.Client:
    return service.applicant("bulkheads@example.org")


@pytest.fixture
def push_agency(service: LiveService, tmp_path: Path) -> Iterator[object]:
    """Register a push agency with ``flask agencies add`` and start its simulator."""
    started: list[Simulator] = []

    def register(country: str, behaviour: str, *options: str) -> Simulator:
        port = free_port()
        _, public_key = _write_key_pair(tmp_path, country, "ec")
        added = service.command(
            "agencies", "add", "--country", country, "--name", f"{country} Records",
            "--mode", "push", "--public-key", str(public_key),
            "--endpoint", f"http://127.0.0.1:{port}/queries",
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        agency_id = added.stdout.strip().splitlines()[-1]
        simulator = _start_simulator(
            tmp_path,
            port,
            agency_id,
            service.base_url,
            ["--mode", "push", "--behaviour", behaviour, *options],
        )
        started.append(simulator)
        return simulator

    yield register
    for simulator in started:
        simulator.stop()


def _sandbox_checks_time(applicant: httpx.Client, push_country: str | None) -> float:
    """Seconds from the first of FILINGS filings until every sandbox check of them is final.

    Each filing names the push country first (its check is dispatched first) and Kenya;
    the nationality, Nigeria, is a sandbox country too.
    """
    residences = [{"country": "KE", "from": "2016-07", "to": None}]
    if push_country:
        residences.insert(0, {"country": push_country, "from": "2012-09", "to": "2016-06"})
    started = time.monotonic()
    ids = []
    for _ in range(FILINGS):
        filed = applicant.post("/api/v1/applications", json=application_body(residences=residences))
        assert filed.status_code == 201, filed.text
        ids.append(filed.json()["id"])

    def sandbox_done() -> bool:
        for application_id in ids:
            checks = applicant.get(f"/api/v1/applications/{application_id}").json()["checks"]
            sandbox = [c for c in checks if c["country"] in ("KE", "NG")]
            if any(c["status"] != "answered" for c in sandbox):
                return False
        return True

    wait_for("the sandbox checks", sandbox_done, timeout=120)
    return time.monotonic() - started


def _baseline(applicant: httpx.Client) -> float:
    """The sandbox checks' time with no push agency, measured on a warmed-up service."""
    _sandbox_checks_time(applicant, None)
    return _sandbox_checks_time(applicant, None)


def test_a_slow_agency_leaves_other_countries_fast_and_still_gets_its_calls(
    service: LiveService, applicant: httpx.Client, push_agency: object
) -> None:
    baseline = _baseline(applicant)
    slow = push_agency("IS", "slow", "--slow-seconds", "2")  # type: ignore[operator]
    with_slow_agency = _sandbox_checks_time(applicant, "IS")
    assert with_slow_agency <= 2 * baseline, (baseline, with_slow_agency)

    # and the slow agency got every query, a bounded number at a time
    def every_query_pushed() -> bool:
        pushed = {entry["query_id"] for entry in slow.log()["pushes"] if entry["status"] == 200}
        return len(pushed) == FILINGS

    wait_for("every query at the slow agency", every_query_pushed, timeout=120)

    def every_answer_stored() -> bool:
        sql = "SELECT count(*) FROM checks WHERE country = 'IS' AND status = 'answered'"
        return service.query(sql)[0][0] == FILINGS

    wait_for("every slow answer stored", every_answer_stored, timeout=30)


def test_an_agency_trickling_its_headers_is_cut_off_at_the_deadline(
    service: LiveService, applicant: httpx.Client, push_agency: object
) -> None:
    baseline = _baseline(applicant)
    push_agency("LU", "trickle_headers")  # type: ignore[operator]
    with_trickling_agency = _sandbox_checks_time(applicant, "LU")
    assert with_trickling_agency <= 2 * baseline, (baseline, with_trickling_agency)

    # each call ends at the 3-second whole-call deadline, long before the headers would
    def cut_off() -> list[tuple[object, ...]]:
        return service.query(
            "SELECT last_error FROM checks WHERE country = 'LU' AND last_error LIKE :e",
            e="%no complete answer within 3%",
        )

    wait_for("a call cut off at the deadline", cut_off, timeout=30)
