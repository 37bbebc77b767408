"""The contract, walked against the service running as a real process on loopback."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pypdfium2 as pdfium
import pytest
import zxingcpp

from tests.conftest import application_body
from tests.live import LiveService, live_service

pytestmark = pytest.mark.slow


def _wait_complete(http: httpx.Client, app_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = http.get(f"/api/v1/applications/{app_id}").json()
        if body["status"] == "complete":
            return body
        time.sleep(0.2)
    raise AssertionError(f"application {app_id} not complete: {body}")


def _qr_from_pdf(pdf: bytes) -> str:
    page = pdfium.PdfDocument(pdf)[0]
    image = page.render(scale=200 / 72).to_pil()
    barcodes = zxingcpp.read_barcodes(image)
    assert len(barcodes) == 1, "exactly one QR code on the page"
    return str(barcodes[0].text)


def _signup(service: LiveService, email: str) -> httpx.Client:
    http = service.client()
    password = "a long enough password"
    created = http.post(
        "/api/v1/accounts", json={"email": email, "password": password, "name": "Ada Okafor"}
    )
    assert created.status_code == 201, created.text
    assert set(created.json()) >= {"id", "email"}
    token = http.post("/api/v1/tokens", json={"email": email, "password": password})
    assert token.status_code == 200
    assert token.json()["token_type"] == "Bearer"
    assert token.json()["expires_in"] > 0
    http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    return http


def test_the_whole_contract_over_http(tmp_path: Path) -> None:
    with live_service(tmp_path, SANDBOX_LATENCY_MS="50") as service:
        http = _signup(service, "ada@example.org")
        assert http.get("/healthz").json()["status"] == "ok"
        assert http.get("/api/v1/openapi.json").json()["openapi"].startswith("3.")

        # bad input is refused, naming the field, and stores nothing
        bad = application_body()
        bad["residences"][0]["country"] = "XX"
        refused = http.post("/api/v1/applications", json=bad)
        assert refused.status_code == 400
        assert "residences.0.country" in refused.json()["error"]["fields"]
        assert http.get("/api/v1/applications").json() == {"applications": []}

        # filing, and an idempotent retry
        headers = {"Idempotency-Key": "ada-2026-11-29"}
        filed = http.post("/api/v1/applications", json=application_body(), headers=headers)
        assert filed.status_code == 201, filed.text
        retried = http.post("/api/v1/applications", json=application_body(), headers=headers)
        assert retried.json()["id"] == filed.json()["id"]
        assert len(http.get("/api/v1/applications").json()["applications"]) == 1

        done = _wait_complete(http, filed.json()["id"])
        assert [(c["country"], c["status"], c["outcome"]) for c in done["checks"]] == [
            ("KE", "answered", "no_record"),
            ("TH", "answered", "no_record"),
            ("NG", "answered", "no_record"),
        ]
        certificate = done["certificate"]
        assert certificate["status"] == "valid"

        # the PDF is its owner's only
        pdf_url = httpx.URL(service.base_url).join(certificate["pdf_url"])
        pdf = http.get(pdf_url)
        assert pdf.status_code == 200
        assert pdf.headers["content-type"] == "application/pdf"
        assert service.client().get(pdf_url).status_code == 401
        stranger = _signup(service, "mallory@example.org")
        assert stranger.get(pdf_url).status_code == 404
        assert stranger.get(f"/api/v1/applications/{done['id']}").status_code == 404

        # the QR read back from the rendered page, and its token checked against the JWKS
        qr = _qr_from_pdf(pdf.content)
        assert qr == certificate["verify_url"]
        assert qr.startswith(f"{service.base_url}/v#")
        token = qr.split("#", 1)[1]
        jwks = service.client().get("/.well-known/jwks.json").json()
        kid = jwt.get_unverified_header(token)["kid"]
        key = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == kid))
        claims = jwt.decode(token, key.key, algorithms=["EdDSA"])
        assert claims["jti"] == certificate["id"]
        assert claims["c"] == "nKETHNG"

        public = service.client()
        verdict = public.post("/api/v1/verify", json={"token": token}).json()
        assert (verdict["valid"], verdict["status"]) == (True, "valid")
        typed = public.post(
            "/api/v1/verify",
            json={"certificate_id": certificate["id"], "date_of_birth": "1990-04-17"},
        ).json()
        assert typed["status"] == "valid"
        upload = public.post(
            "/api/v1/verify", files={"file": ("c.pdf", io.BytesIO(pdf.content), "application/pdf")}
        )
        assert upload.json()["status"] == "valid"
        assert public.get("/v").status_code == 200

        revoked = service.command(
            "certificates", "revoke", "--reason", "Test revocation", certificate["id"]
        )
        assert revoked.returncode == 0, revoked.stderr
        assert public.post("/api/v1/verify", json={"token": token}).json()["status"] == "revoked"
        assert (
            public.post(
                "/api/v1/verify",
                json={"certificate_id": certificate["id"], "date_of_birth": "1990-04-17"},
            ).json()["status"]
            == "revoked"
        )


def test_a_killed_server_loses_nothing(tmp_path: Path) -> None:
    settings = {"SANDBOX_LATENCY_MS": "1500", "LEASE_SECONDS": "2"}
    with live_service(tmp_path, **settings) as service:
        http = _signup(service, "ada@example.org")
        ids = [
            http.post("/api/v1/applications", json=application_body(name)).json()["id"]
            for name in ("Okafor", "FLAKY", "Mensah")
        ]
        time.sleep(0.5)  # the checks are in flight: claimed, adapters sleeping
        service.kill()
        statuses = service.query("SELECT status FROM checks")
        assert {row[0] for row in statuses} <= {"queued", "sent"}
        service.start()
        http.get("/healthz")
        for app_id in ids:
            done = _wait_complete(http, app_id)
            assert {c["outcome"] for c in done["checks"]} == {"no_record"}
            assert done["certificate"] is not None
        per_application = service.query(
            "SELECT application_id, count(*) FROM certificates GROUP BY application_id"
        )
        assert sorted(n for _, n in per_application) == [1, 1, 1]
        answers = service.query(
            "SELECT subject_id, count(*) FROM audit_events WHERE action = 'check.answered' "
            "GROUP BY subject_id"
        )
        assert len(answers) == 9
        assert {n for _, n in answers} == {1}
