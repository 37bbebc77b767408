"""Verification throughput: POST /api/v1/verify under gunicorn, against a bare Flask route.

Runs the service as a real process (gunicorn with gunicorn.conf.py, on
loopback), issues a few certificates through its own API, then drives
``POST /api/v1/verify`` with wrk over 16 keep-alive connections: once with
the certificates' QR tokens, once with their typed numbers and dates of
birth. The baseline, measured in the same run under the same gunicorn
settings with the same load generator, is a bare Flask route
(bench/bare_app.py) that parses the same body and answers a small JSON
document. Rounds alternate baseline and service, so a noisy neighbour slows
both alike; each figure is the median of the rounds. Every run prints how
its 16 connections were spread over gunicorn's workers, and a run in which
one worker held them all is run again (bench/_common.py says why).

Runs on SQLite (the default) and, when ``IPC_TEST_DATABASE_URL`` is set, on
PostgreSQL too. Goals: token and typed-number verification each at least
0.5 of the bare route's throughput (0.65 is what to aim for), and a p99 within
20 ms on PostgreSQL. After the load runs, the CPU of one request is broken
down by part, in process (bench/_breakdown.py): framework, lookup, signature,
rate limiter, history.

    .venv/bin/python bench/verify.py [--quick] [--seconds 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _breakdown import cpu_breakdown, print_breakdown
from _common import (
    LoadResult,
    bare_server,
    even_run,
    issue_over_http,
    median_result,
    report_bad_answers,
    require_wrk,
    run_wrk,
    verdict,
)

from tests.live import live_service

GOAL = 0.5
#: what the service should reach: the bare route's CPU plus a signature check, nearly
STRETCH_GOAL = 0.65
#: p99 at 16 connections on PostgreSQL
P99_GOAL_MS = 20.0
#: Certificates issued for the run; requests cycle through them.
CERTIFICATES = 4


@contextmanager
def postgres_server(url: str | None) -> Iterator[None]:
    """Point tests.databases at PostgreSQL (``url``) or at SQLite (None) for the block."""
    saved = os.environ.get("IPC_TEST_DATABASE_URL")
    if url is None:
        os.environ.pop("IPC_TEST_DATABASE_URL", None)
    else:
        os.environ["IPC_TEST_DATABASE_URL"] = url
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("IPC_TEST_DATABASE_URL", None)
        else:
            os.environ["IPC_TEST_DATABASE_URL"] = saved


def verification_bodies(rows: list[tuple[Any, ...]]) -> tuple[list[dict[str, Any]], ...]:
    """Token bodies and typed-number bodies for the issued certificates."""
    tokens = [{"token": str(token)} for _, token, _ in rows]
    numbers = [{"certificate_id": str(cid), "date_of_birth": str(dob)} for cid, _, dob in rows]
    return tokens, numbers


def check_answers(base_url: str, bodies: list[dict[str, Any]]) -> None:
    """Each body must verify as ``valid``: a benchmark of wrong answers measures nothing."""
    for body in bodies:
        answer = httpx.post(f"{base_url}/api/v1/verify", json=body, timeout=10)
        if answer.status_code != 200 or answer.json().get("status") != "valid":
            raise RuntimeError(f"verification did not answer valid: {answer.text[:300]}")


def measure_backend(
    name: str, bare_url: str, tmp: Path, seconds: float, rounds: int, *, breakdown: bool = True
) -> dict[str, LoadResult]:
    """Bare route, token and typed number, ``rounds`` times in turn, on one database."""
    settings = {
        "VERIFY_RATE_LIMIT": "1000000/minute",
        "SANDBOX_LATENCY_MS": "0",
        "SWEEP_INTERVAL_SECONDS": "2",
    }
    if name == "sqlite":
        settings["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    with live_service(tmp, server="gunicorn", **settings) as service:
        ids = issue_over_http(service, CERTIFICATES)
        rows = [
            service.query(
                "SELECT id, token, holder_date_of_birth FROM certificates WHERE id = :id", id=i
            )[0]
            for i in ids
        ]
        keyring = service.keyring()  # the token is sealed at rest; the operator's keys open it
        rows = [
            (cid, keyring.open(str(token), "certificates.token").decode(), dob)
            for cid, token, dob in rows
        ]
        tokens, numbers = verification_bodies(rows)
        check_answers(service.base_url, tokens + numbers)
        verify_url = f"{service.base_url}/api/v1/verify"
        # warm-up: every worker process loads keys, compiles queries, opens connections
        run_wrk(verify_url, tokens, seconds=2)
        run_wrk(f"{bare_url}/api/v1/verify", tokens, seconds=1)
        runs: dict[str, list[LoadResult]] = {"bare": [], "token": [], "number": []}
        for round_no in range(1, rounds + 1):
            runs["bare"].append(even_run(f"{bare_url}/api/v1/verify", tokens, seconds=seconds))
            runs["token"].append(even_run(verify_url, tokens, seconds=seconds))
            runs["number"].append(even_run(verify_url, numbers, seconds=seconds))
            for kind, results in runs.items():
                print(f"  [{name}] round {round_no} {kind:<7}{results[-1].line()}", flush=True)
        report_bad_answers(service.log_path, name)
        if breakdown:
            print_breakdown(
                name,
                cpu_breakdown(
                    service.database_url,
                    Path(service.env["IPC_INSTANCE_PATH"]),
                    str(tokens[0]["token"]),
                    str(numbers[0]["certificate_id"]),
                ),
            )
    return {kind: median_result(results) for kind, results in runs.items()}


def main() -> int:
    """Run the benchmark; exit 1 when the goal is not met on some database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs, one round (~1 min)")
    parser.add_argument("--seconds", type=float, help="length of each measured run")
    parser.add_argument("--rounds", type=int, help="alternating rounds per database")
    args = parser.parse_args()
    seconds = args.seconds or (4.0 if args.quick else 8.0)
    rounds = args.rounds or (1 if args.quick else 3)
    require_wrk()
    pg_url = os.environ.get("IPC_TEST_DATABASE_URL") or None
    backends = ["sqlite"] + (["postgresql"] if pg_url else [])
    print(
        f"verify: wrk, {seconds:g} s runs, {rounds} round(s), 16 connections, "
        f"gunicorn.conf.py settings; databases: {', '.join(backends)}"
    )
    if not pg_url:
        print("  (set IPC_TEST_DATABASE_URL to measure PostgreSQL too)")
    all_met = True
    summary: list[str] = []
    with (
        tempfile.TemporaryDirectory(prefix="ipc-bench-verify-") as tmp,
        bare_server(Path(tmp)) as bare_url,
    ):
        for name in backends:
            work = Path(tmp) / name
            work.mkdir()
            with postgres_server(pg_url if name == "postgresql" else None):
                result = measure_backend(name, bare_url, work, seconds, rounds)
            bare = result["bare"]
            for kind in ("token", "number"):
                ratio = result[kind].rps / bare.rps
                line = (
                    f"{name:<10} {kind:<6} {result[kind].rps:7.0f} req/s  "
                    f"p50 {result[kind].p50_ms:5.1f} ms  p99 {result[kind].p99_ms:6.1f} ms  "
                    f"vs bare {bare.rps:7.0f} req/s  p99 {bare.p99_ms:5.1f} ms  ratio {ratio:.2f}"
                    f"  ({verdict(ratio, GOAL)}, goal {STRETCH_GOAL:g})"
                )
                all_met = all_met and ratio >= GOAL
                if name == "postgresql":
                    p99_met = result[kind].p99_ms <= P99_GOAL_MS
                    line += f"  p99 <= {P99_GOAL_MS:g} ms: {'MET' if p99_met else 'NOT MET'}"
                    all_met = all_met and p99_met
                summary.append(line)
    print("\nmedians:")
    for line in summary:
        print(line)
    return 0 if all_met else 1


if __name__ == "__main__":
    sys.exit(main())
