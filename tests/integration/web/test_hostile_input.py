"""Hostile input is a 4xx, never a 500, and costs bounded memory (audit finding 8).

The auditor uploaded PDFs with deeply nested arrays, a reference loop,
``/Count 1e400`` and an object-stream bomb, posted JSON nested 50,000 deep,
and put NUL bytes in an e-mail address, an organisation and a name (which
PostgreSQL refuses to store). Each is replayed here, first through the test
client, then against a real service process whose peak memory is read from
``/proc``.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from certificate.auth.models import User
from certificate.db import db
from certificate.issuance.models import CertificateVerification
from tests.conftest import application_body
from tests.hostile import DEEP_JSON_PATHS, HOSTILE_PDFS, attack, deep_json
from tests.live import live_service


@pytest.mark.parametrize("kind", sorted(HOSTILE_PDFS))
def test_a_hostile_pdf_upload_is_a_400(client: FlaskClient, kind: str) -> None:
    # a raw multipart body: the test client would spool a large file to a temporary file
    body = (
        b'--x\r\nContent-Disposition: form-data; name="file"; filename="hostile.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n" + HOSTILE_PDFS[kind]() + b"\r\n--x--\r\n"
    )
    response = client.post(
        "/api/v1/verify", data=body, content_type="multipart/form-data; boundary=x"
    )
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.get_json()["error"]["fields"] == {"file": "is not a readable PDF document"}


@pytest.mark.parametrize("path", DEEP_JSON_PATHS)
def test_json_nested_50000_deep_is_refused_before_parsing(
    client: FlaskClient, auth: dict[str, str], path: str
) -> None:
    response = client.post(path, data=deep_json(), content_type="application/json", headers=auth)
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    error = response.get_json()["error"]
    assert error["code"] == "invalid_json"
    assert "deeper than" in error["fields"]["body"]


def test_json_within_the_depth_limit_still_parses(client: FlaskClient) -> None:
    nested = {"token": [[["x"]]]}
    response = client.post("/api/v1/verify", json=nested)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_request"  # the schema, not the guard


def _users(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(User)) or 0)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"email": "ada\x00@example.org", "password": "correct horse battery", "name": "Ada"},
            "email",
        ),
        (
            {"email": "ada@example.org", "password": "correct horse battery", "name": "A\x00da"},
            "name",
        ),
    ],
)
def test_a_nul_byte_in_an_account_field_is_a_400_naming_it(
    app: Flask, client: FlaskClient, body: dict[str, str], field: str
) -> None:
    before = _users(app)
    response = client.post("/api/v1/accounts", json=body)
    assert response.status_code == 400, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    assert _users(app) == before


def test_a_nul_byte_in_an_applicant_name_is_a_400_naming_it(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    body = application_body()
    body["applicant"]["given_names"] = "Ada\x00Chioma"
    response = client.post("/api/v1/applications", json=body, headers=auth)
    assert response.status_code == 400, response.get_json()
    assert "applicant.given_names" in response.get_json()["error"]["fields"]


def test_a_nul_byte_in_an_organisation_is_a_400_naming_it(app: Flask, client: FlaskClient) -> None:
    for response in (
        client.post(
            "/api/v1/verify",
            json={
                "certificate_id": "IPC-X",
                "date_of_birth": "1990-04-17",
                "organisation": "N\x00GO",
            },
        ),
        client.post(
            "/api/v1/verify",
            data={"file": (io.BytesIO(b"%PDF-1.7\n"), "c.pdf"), "organisation": "N\x00GO"},
            content_type="multipart/form-data",
        ),
    ):
        assert response.status_code == 400, response.get_json()
        assert "organisation" in response.get_json()["error"]["fields"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CertificateVerification)) == 0


def test_a_nul_byte_in_a_form_field_is_a_400_page(app: Flask, client: FlaskClient) -> None:
    before = _users(app)
    response = client.post(
        "/signup",
        data={
            "name": "Ada",
            "email": "ada\x00@example.org",
            "password": "correct horse battery",
            "confirm": "correct horse battery",
        },
    )
    assert response.status_code == 400
    assert "email" in response.get_data(as_text=True)
    assert _users(app) == before


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc")


#: How much a served process's peak memory may grow while it refuses every hostile input
#: (each object-stream bomb would take 256 MiB to inflate).
MEMORY_GROWTH_BOUND_MIB = 96


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads peak memory from /proc")
def test_a_fuzzing_run_of_hostile_input_gets_only_4xx_with_bounded_memory(tmp_path: Path) -> None:
    with live_service(tmp_path, VERIFY_RATE_LIMIT="10000/minute") as service:
        assert service.process is not None
        http = service.client(timeout=60)
        http.get("/v").raise_for_status()  # the service's own working set, before the attack
        # ... including what start-up prepares in the background (fonts for every script)
        deadline = time.monotonic() + 120
        while not http.get("/healthz").json()["prepared"]:
            assert time.monotonic() < deadline, "the start-up preparation never finished"
            time.sleep(0.2)
        before = _peak_rss_mib(service.process.pid)
        answers = [a for _round in range(3) for a in attack(http)]
        after = _peak_rss_mib(service.process.pid)
    wrong = [(what, status) for what, status in answers if not 400 <= status < 500]
    assert not wrong, wrong
    assert len(answers) == 3 * (2 * len(HOSTILE_PDFS) + len(DEEP_JSON_PATHS))
    assert after - before < MEMORY_GROWTH_BOUND_MIB, (before, after)
