"""Crashes and faults: a worker killed mid-issuance, and a database restarted mid-run."""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from certificate.storage import open_document
from tests.conftest import application_body
from tests.databases import server_url
from tests.live import LiveService, live_service

pytestmark = pytest.mark.slow


def _wait_complete(http: httpx.Client, ids: list[str], timeout: float = 90) -> None:
    pending = set(ids)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        pending = {
            i
            for i in pending
            if http.get(f"/api/v1/applications/{i}").json()["status"] != "complete"
        }
        time.sleep(0.2)
    assert not pending, f"not complete: {pending}"


def _issuing(service: LiveService) -> bool:
    """True while some application has every check final and no certificate yet."""
    rows = service.query(
        "SELECT a.id FROM applications a WHERE a.status = 'in_progress' "
        "AND NOT EXISTS (SELECT 1 FROM checks c WHERE c.application_id = a.id "
        "AND c.status NOT IN ('answered', 'no_response', 'not_covered')) "
        "AND NOT EXISTS (SELECT 1 FROM certificates x WHERE x.application_id = a.id)"
    )
    return bool(rows)


def test_a_worker_killed_mid_issuance_leaves_exactly_one_of_everything(tmp_path: Path) -> None:
    with live_service(
        tmp_path,
        SANDBOX_LATENCY_MS="300",
        LEASE_SECONDS="2",
        ORPHAN_DOCUMENT_SECONDS="1",
        SWEEP_INTERVAL_SECONDS="0.3",
    ) as service:
        http = service.applicant("a@example.org")
        ids = [
            http.post("/api/v1/applications", json=application_body(name)).json()["id"]
            for name in ("Okafor", "Mensah", "Diallo", "Banda")
        ]
        deadline = time.monotonic() + 30
        while not _issuing(service):
            assert time.monotonic() < deadline, "issuance never started"
            time.sleep(0.005)
        service.kill()  # the process that runs the jobs dies mid-issuance
        service.start()
        _wait_complete(http, ids)
        time.sleep(1.5)  # past ORPHAN_DOCUMENT_SECONDS: the sweeper settles any orphan

        certificates = service.query(
            "SELECT application_id, id, pdf_sha256 FROM certificates ORDER BY application_id"
        )
        assert sorted(a for a, _, _ in certificates) == sorted(ids)  # one each
        issued_events = service.query(
            "SELECT count(*) FROM audit_events WHERE action = 'certificate.issued'"
        )[0][0]
        assert issued_events == len(ids)
        answers = service.query(
            "SELECT subject_id, count(*) FROM audit_events WHERE action = 'check.answered' "
            "GROUP BY subject_id"
        )
        assert len(answers) == 3 * len(ids)
        assert {n for _, n in answers} == {1}
        folder = Path(service.env["IPC_INSTANCE_PATH"]) / "certificates"
        files = sorted(os.listdir(folder))
        assert files == sorted(f"{cid}.pdf" for _, cid, _ in certificates)  # no orphan, no pending
        keys = service.keyring()
        for _, certificate_id, digest in certificates:
            data = open_document(keys, (folder / f"{certificate_id}.pdf").read_bytes())
            assert hashlib.sha256(data).hexdigest() == digest


def _restart_postgres() -> None:
    directory = os.environ["IPC_TEST_PG_DIR"]
    pg_ctl = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))[-1]
    command = f"{pg_ctl} -D {directory}/data -m fast -w restart -l {directory}/log"
    if os.geteuid() == 0:
        subprocess.run(
            ["su", "postgres", "-s", "/bin/sh", "-c", command],
            check=True,
            capture_output=True,
            timeout=60,
        )
    else:
        subprocess.run(command.split(), check=True, capture_output=True, timeout=60)


@pytest.mark.skipif(
    server_url() is None or "IPC_TEST_PG_DIR" not in os.environ,
    reason="needs the throw-away PostgreSQL cluster of .ci/start-postgres",
)
def test_a_database_restart_loses_no_accepted_application(tmp_path: Path) -> None:
    with live_service(tmp_path, SANDBOX_LATENCY_MS="100") as service:
        http = service.applicant("a@example.org")
        accepted: list[str] = []
        refused = 0
        stop = threading.Event()

        def file_continuously() -> None:
            nonlocal refused
            with httpx.Client(
                base_url=service.base_url, timeout=10, headers=dict(http.headers)
            ) as client:
                while not stop.is_set():
                    try:
                        response = client.post(
                            "/api/v1/applications", json=application_body("Okafor")
                        )
                    except httpx.HTTPError:
                        refused += 1
                        continue
                    if response.status_code == 201:
                        accepted.append(response.json()["id"])
                    else:
                        refused += 1
                    time.sleep(0.25)

        filer = threading.Thread(target=file_continuously)
        filer.start()
        time.sleep(1.5)
        _restart_postgres()
        time.sleep(2.0)
        stop.set()
        filer.join(timeout=30)
        assert len(accepted) >= 5
        _wait_complete(http, accepted, timeout=120)
        stored = {row[0] for row in service.query("SELECT id FROM applications")}
        assert set(accepted) <= stored  # every 201 was kept
