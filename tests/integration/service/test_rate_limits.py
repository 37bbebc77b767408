"""Rate limits: one budget per client, shared by every process and every way of verifying.

The audit (finding 6) sent 400 verifications to gunicorn with 3 workers and a
120/minute limit: 295 passed, because each worker counted alone; the API and
/v had separate budgets; and behind a proxy every client shared the proxy's
address. Here the same storm runs against the Redis store (exact: one atomic
increment per hit) and the database store (batched: at most
``workers * IPC_RATE_LIMIT_BATCH`` over the limit), and ProxyFix is checked
with and without a trusted proxy.
"""

from __future__ import annotations

import io
import re
import shutil
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from sqlalchemy import create_engine, text

from certificate.rate_limits import counters_url
from tests.live import LiveService, live_service, redis_server

LIMIT = 120
REQUESTS = 400
WORKERS = 3
BATCH = 5
THREADS = 8


def _verify_calls(http: httpx.Client) -> list[Callable[[], httpx.Response]]:
    """The three ways of verifying, each a request the limit counts."""
    page = http.get("/v").text
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    csrf = match.group(1) if match else ""
    typed = {"certificate_id": "IPC-0000-0000", "date_of_birth": "1990-04-17"}
    return [
        lambda: http.post("/api/v1/verify", json=typed),
        lambda: http.post(
            "/v",
            data={
                "csrf_token": csrf,
                "certificate_number": typed["certificate_id"],
                "date_of_birth": typed["date_of_birth"],
            },
        ),
        lambda: http.post(
            "/api/v1/verify", files={"file": ("c.pdf", b"%PDF-1.7\n", "application/pdf")}
        ),
    ]


def _storm(service: LiveService) -> Counter[int]:
    """``REQUESTS`` verifications from one address, spread over threads and routes."""
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    share = REQUESTS // THREADS

    def run() -> None:
        http = service.client(timeout=30)
        calls = _verify_calls(http)
        for index in range(share):
            response = calls[index % len(calls)]()
            if response.status_code == 429:
                assert response.headers.get("Retry-After")
            with lock:
                statuses[response.status_code] += 1

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(statuses.values()) == share * THREADS
    return statuses


def _serve(tmp_path: Path, **settings: str) -> Any:
    return live_service(
        tmp_path,
        server="gunicorn",
        WEB_WORKERS=str(WORKERS),
        VERIFY_RATE_LIMIT=f"{LIMIT}/minute",
        JOBS_ENABLED="false",
        **settings,
    )


needs_redis = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="needs redis-server (CI provides it)"
)


@needs_redis
def test_redis_counts_every_worker_and_route_exactly(tmp_path: Path) -> None:
    with (
        redis_server(tmp_path) as redis_url,
        _serve(tmp_path, RATE_LIMIT_STORAGE_URL=redis_url) as service,
    ):
        statuses = _storm(service)
    admitted = REQUESTS - statuses[429]
    assert admitted == LIMIT, statuses


def test_the_database_store_admits_the_limit_within_its_stated_bound(tmp_path: Path) -> None:
    with _serve(tmp_path, RATE_LIMIT_BATCH=str(BATCH)) as service:
        statuses = _storm(service)
        counters = create_engine(counters_url(service.database_url))
        try:
            with counters.connect() as connection:
                rows = connection.execute(text("SELECT sum(hits) FROM rate_limit_counters")).all()
        finally:
            counters.dispose()
    admitted = REQUESTS - statuses[429]
    # each worker sees the others' hits at its next flush, at most BATCH hits later
    assert LIMIT <= admitted <= LIMIT + WORKERS * BATCH, statuses
    # one write per BATCH hits of a worker, not one per request (on SQLite, in the counts'
    # own file beside the database: their flushes never wait behind the service's writes)
    assert rows[0][0] is not None
    assert REQUESTS - WORKERS * BATCH <= int(rows[0][0]) <= REQUESTS  # type: ignore[call-overload]


# --- one budget across routes, and the client's address behind proxies (test client)


@pytest.fixture
def limited_app(app_config: dict[str, Any], make_app: Callable[[dict[str, Any]], Flask]) -> Any:
    def build(**settings: Any) -> Flask:
        from certificate.db import db

        app = make_app(
            {**app_config, "RATELIMIT_ENABLED": True, "VERIFY_RATE_LIMIT": "3/minute", **settings}
        )
        with app.app_context():
            db.create_all()
        return app

    return build


def _typed(client: Any, **kwargs: Any) -> int:
    body = {"certificate_id": "IPC-0000-0000", "date_of_birth": "1990-04-17"}
    return int(client.post("/api/v1/verify", json=body, **kwargs).status_code)


def test_the_api_and_the_page_share_one_budget(limited_app: Any) -> None:
    client = limited_app().test_client()
    assert _typed(client) == 200
    page = client.post("/v", data={"certificate_number": "IPC-0000", "date_of_birth": "1990-04-17"})
    assert page.status_code == 200
    upload = client.post(
        "/v/upload",
        data={"file": (io.BytesIO(b"%PDF-1.7\n"), "c.pdf")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 400  # counted: not a readable PDF
    for answer in (
        _typed(client),
        client.post(
            "/v", data={"certificate_number": "X", "date_of_birth": "1990-04-17"}
        ).status_code,
    ):
        assert answer == 429


def test_without_a_trusted_proxy_forwarded_addresses_are_ignored(limited_app: Any) -> None:
    client = limited_app().test_client()
    answers = [_typed(client, headers={"X-Forwarded-For": f"203.0.113.{n}"}) for n in range(4)]
    assert answers == [200, 200, 200, 429]


def test_behind_one_trusted_proxy_each_client_has_its_own_budget(limited_app: Any) -> None:
    client = limited_app(TRUSTED_PROXIES=1).test_client()
    first = [_typed(client, headers={"X-Forwarded-For": "203.0.113.1"}) for _ in range(4)]
    assert first == [200, 200, 200, 429]
    assert _typed(client, headers={"X-Forwarded-For": "203.0.113.2"}) == 200
    # a client cannot choose its address: the proxy appends the one it saw, which counts
    spoofed = _typed(client, headers={"X-Forwarded-For": "198.51.100.9, 203.0.113.1"})
    assert spoofed == 429
