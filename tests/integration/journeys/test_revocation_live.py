"""A revocation reaches every web process at once: two gunicorn workers serve verifications
while an operator revokes the certificate, and every answer to a request sent after the
revocation committed is ``revoked``, from both workers: nothing is cached, so the answer
follows the revocation from the very next request."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import application_body
from tests.live import live_service

pytestmark = pytest.mark.slow

#: pinned keep-alive connections; gthread keeps each on the worker that accepted it
CONNECTIONS = 8
#: gunicorn's access log with the answering worker's pid and the probe header's value
ACCESS_LOG = "--access-logformat 'probe %(p)s %({x-probe}i)s %(U)s %(s)s'"


def _issue(http: httpx.Client) -> tuple[str, str]:
    filed = http.post("/api/v1/applications", json=application_body()).json()["id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        certificate = http.get(f"/api/v1/applications/{filed}").json()["certificate"]
        if certificate is not None:
            return str(certificate["id"]), str(certificate["verify_url"].split("#", 1)[1])
        time.sleep(0.1)
    raise AssertionError("no certificate within 60 s")


def _workers_of(log: Path) -> dict[str, set[str]]:
    """Which worker pids answered each probe connection's verifications."""
    seen: dict[str, set[str]] = {}
    for pid, probe in re.findall(r"probe <(\d+)> (\d+) /api/v1/verify 200", log.read_text()):
        seen.setdefault(probe, set()).add(pid)
    return seen


def test_both_workers_answer_revoked_once_the_revocation_commits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUNICORN_CMD_ARGS", ACCESS_LOG)
    with live_service(
        tmp_path,
        "gunicorn",
        WEB_WORKERS="2",
        WEB_THREADS="4",
        VERIFY_RATE_LIMIT="1000000/minute",
    ) as service:
        certificate_id, token = _issue(service.applicant("holder@example.org"))
        # the kernel hands each new connection to whichever worker accepts first: on a
        # busy machine one worker may take several in a row, so open more until both serve
        clients: list[httpx.Client] = []
        workers: set[str] = set()
        while len(clients) < CONNECTIONS or (len(workers) < 2 and len(clients) < 4 * CONNECTIONS):
            client = service.client(headers={"X-Probe": str(len(clients))})
            answer = client.post("/api/v1/verify", json={"token": token}).json()
            assert answer["status"] == "valid"
            clients.append(client)
            workers = set().union(*_workers_of(service.log_path).values())
        assert len(workers) == 2, f"the probes reached {workers}, not both workers"
        connections = len(clients)

        committed = threading.Event()
        after: dict[int, list[str]] = {probe: [] for probe in range(connections)}
        stop = threading.Event()

        def poll(probe: int) -> None:
            # keep verifying on this connection; keep what requests sent after the commit answered
            while not stop.is_set():
                sent_after_commit = committed.is_set()
                status = clients[probe].post("/api/v1/verify", json={"token": token}).json()
                if sent_after_commit:
                    after[probe].append(status["status"])

        pollers = [threading.Thread(target=poll, args=(p,)) for p in range(connections)]
        for poller in pollers:
            poller.start()
        try:
            revoked = service.command(
                "certificates", "revoke", certificate_id, "--reason", "issued in error"
            )
            assert revoked.returncode == 0, revoked.stderr
            committed.set()
            # Freshness is what is tested: nothing answers from a cache, so the first request
            # each connection sends after the commit already answers "revoked" (within a
            # second on a quiet machine; the wait allows for a loaded one's slow answers).
            deadline = time.monotonic() + 15.0
            while time.monotonic() < deadline and not all(after.values()):
                time.sleep(0.01)
        finally:
            stop.set()
            for poller in pollers:
                poller.join(timeout=30)

        assert all(after.values()), f"some connections gave no answer: {after}"
        assert {status for answers in after.values() for status in answers} == {"revoked"}
        # each connection stayed on one worker, so both workers answered "revoked"
        answered_by = _workers_of(service.log_path)
        assert all(len(pids) == 1 for pids in answered_by.values()), answered_by
        assert set().union(*answered_by.values()) == workers
