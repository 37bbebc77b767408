"""Helpers shared by the benchmarks: the load generator, servers on loopback, reporting.

The load generator is ``wrk`` (Debian: ``apt-get install -y wrk``), driven by
a small Lua script that POSTs JSON bodies read from a file, one per line, in
turn. wrk is written in C and uses a fraction of one core for tens of
thousands of requests per second; a Python load generator on this two-core
machine would take a whole core from the server it measures and would cap
the fast baseline (the bare route) long before the server does, which would
flatter every ratio.

Which gunicorn worker serves a keep-alive connection is decided once, when
a worker accepts it, and the kernel makes no attempt at fairness: of wrk's
16 connections one worker often took 9 to 13, and now and then all 16
(gunicorn.conf.py's worker now leaves a new connection to a less loaded
worker first, and the spreads are 8/8 or 9/7). Uneven spreads are
gunicorn's normal and are measured as they come (two busy workers fill
this machine's two cores), but a run in which one worker
holds every connection but at most one is served by one process on one
core: the bare route falls from some 5,500 to 1,900 requests a second, the
service to half. Such a run is a draw of the accept lottery, not a measure
of the route, so :func:`even_run` reads how the connections were spread
over the processes (``ss``) and repeats it, for the baseline and the
service alike. Every run prints its spread.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.live import LiveService, free_port, gunicorn_command, stop_group  # noqa: E402

#: Concurrent keep-alive connections: 4 for each of a gunicorn worker's threads (4 workers
#: x 4 threads when the benchmarks were first written; 2 x 4 here since).
CONNECTIONS = 16

_LUA = r"""
-- POST the bodies in $BENCH_BODIES (one JSON document a line) in turn.
local bodies = {}
for line in io.lines(os.getenv("BENCH_BODIES")) do bodies[#bodies + 1] = line end
local counter = 0
local thread_offset = 0

setup = function(thread)
  thread_offset = thread_offset + 7919
  thread:set("offset", thread_offset)
end

init = function(args)
  counter = offset or 0
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

request = function()
  counter = counter + 1
  return wrk.format(nil, nil, nil, bodies[(counter % #bodies) + 1])
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "errors": %d, "non_2xx_3xx": %d, '
      .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


@dataclass(frozen=True)
class LoadResult:
    """What one wrk run measured."""

    requests: int
    seconds: float
    errors: int
    bad_status: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    #: connections held by each server process during the run, most first (() if unknown)
    spread: tuple[int, ...] = ()

    @property
    def rps(self) -> float:
        """Requests answered per second."""
        return self.requests / self.seconds

    def line(self) -> str:
        """One human-readable line."""
        return (
            f"{self.rps:8.0f} req/s   p50 {self.p50_ms:6.1f} ms   p99 {self.p99_ms:6.1f} ms"
            + (f"   errors {self.errors}" if self.errors else "")
            + (f"   non-2xx {self.bad_status}" if self.bad_status else "")
            + (f"   workers {self.spread_text()}" if self.spread else "")
        )

    def spread_text(self) -> str:
        """The spread as ``9/5/2``."""
        return "/".join(map(str, self.spread))


def median_result(results: Sequence[LoadResult]) -> LoadResult:
    """Component-wise median of several runs (throughput and each percentile)."""
    return LoadResult(
        requests=int(statistics.median(r.requests for r in results)),
        seconds=statistics.median(r.seconds for r in results),
        errors=sum(r.errors for r in results),
        bad_status=sum(r.bad_status for r in results),
        p50_ms=statistics.median(r.p50_ms for r in results),
        p90_ms=statistics.median(r.p90_ms for r in results),
        p99_ms=statistics.median(r.p99_ms for r in results),
    )


def require_wrk() -> str:
    """The path of wrk, or exit with how to install it."""
    path = shutil.which("wrk")
    if path is None:
        sys.exit("wrk is needed as the load generator: apt-get install -y wrk")
    return path


def run_wrk(
    url: str,
    bodies: Sequence[dict[str, Any]],
    *,
    seconds: float,
    connections: int = CONNECTIONS,
    threads: int = 1,
) -> LoadResult:
    """POST ``bodies`` (in turn) to ``url`` for ``seconds`` over ``connections`` keep-alive
    connections, and return what wrk measured, with how the connections were spread over
    the server's processes. Any error or non-2xx answer is counted."""
    wrk = require_wrk()
    port = urlsplit(url).port or 80  # wrk speaks plain HTTP
    with tempfile.TemporaryDirectory(prefix="ipc-wrk-") as tmp:
        script = Path(tmp) / "post.lua"
        script.write_text(_LUA)
        bodies_file = Path(tmp) / "bodies.jsonl"
        bodies_file.write_text("".join(json.dumps(b, separators=(",", ":")) + "\n" for b in bodies))
        with subprocess.Popen(
            [
                wrk,
                f"-t{threads}",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "10s",
                "-s",
                str(script),
                url,
            ],
            env={**os.environ, "BENCH_BODIES": str(bodies_file)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as process:
            time.sleep(min(1.0, seconds / 3))  # every connection is open and busy by then
            spread = connections_per_process(port)
            stdout, stderr = process.communicate(timeout=seconds + 60)
    for line in stdout.splitlines():
        if line.startswith("WRKJSON "):
            data = json.loads(line.removeprefix("WRKJSON "))
            return LoadResult(
                requests=data["requests"],
                seconds=data["duration_us"] / 1e6,
                errors=data["errors"],
                bad_status=data["non_2xx_3xx"],
                p50_ms=data["p50_us"] / 1000,
                p90_ms=data["p90_us"] / 1000,
                p99_ms=data["p99_us"] / 1000,
                spread=spread,
            )
    raise RuntimeError(f"wrk gave no result:\n{stdout}\n{stderr}")


def connections_per_process(port: int) -> tuple[int, ...]:
    """How many established connections to ``port`` each local process holds, most
    first (``ss``, from iproute2); () where ``ss`` is missing."""
    ss = shutil.which("ss")
    if ss is None:
        return ()
    listing = subprocess.run(
        [ss, "-tnpH", "state", "established", f"( sport = :{port} )"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    held = Counter(re.findall(r"pid=(\d+)", listing))
    return tuple(sorted(held.values(), reverse=True))


#: runs of one measurement at most, while its connections land on one process
EVEN_RUN_ATTEMPTS = 3


def even_run(
    url: str, bodies: Sequence[dict[str, Any]], *, seconds: float, connections: int = CONNECTIONS
) -> LoadResult:
    """:func:`run_wrk`, repeated (up to :data:`EVEN_RUN_ATTEMPTS` runs) while one server
    process holds all the connections but at most one: such a run measures which worker
    accepted them (see the module's doc), not the route. The last run is returned,
    whatever its spread; the spread is printed with it."""
    for _ in range(EVEN_RUN_ATTEMPTS):
        result = run_wrk(url, bodies, seconds=seconds, connections=connections)
        if not result.spread or result.spread[0] < connections - 1:
            break
        print(
            f"    (one process held the connections, {result.spread_text()}: run again)", flush=True
        )
    return result


@contextmanager
def bare_server(log_dir: Path) -> Iterator[str]:
    """The bare baseline app (bench/bare_app.py) under the same gunicorn settings; its URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IPC_")}
    with open(log_dir / "bare.log", "ab") as log:
        process = subprocess.Popen(
            gunicorn_command("bare_app:app", port, "--pythonpath", str(ROOT / "bench")),
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/healthz", process)
        yield base
    finally:
        stop_group(process)


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    """Poll ``url`` until it answers 200; fail if the process exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def applicant_body(
    family_name: str = "Okafor", date_of_birth: str = "1990-04-17"
) -> dict[str, Any]:
    """A filing as in the contract's example, served by sandbox countries only."""
    return {
        "applicant": {
            "family_name": family_name,
            "given_names": "Ada Chioma",
            "other_names": ["Ada Mensah"],
            "date_of_birth": date_of_birth,
            "place_of_birth": {"city": "Lagos", "country": "NG"},
            "nationalities": ["NG"],
            "identity_document": {
                "type": "passport",
                "number": "A1234567",
                "issuing_country": "NG",
                "expires": "2031-01-01",
            },
        },
        "residences": [
            {"country": "KE", "from": "2012-09", "to": "2016-06"},
            {"country": "TH", "from": "2016-07", "to": None},
        ],
        "language": "en",
        "purpose": "Teacher at a primary school",
        "consent": True,
    }


def issue_over_http(service: LiveService, count: int, *, timeout: float = 120) -> list[str]:
    """Sign up, file ``count`` applications and wait for their certificates; return their ids."""
    http = service.applicant(f"bench-{time.monotonic_ns()}@example.org")
    urls = []
    for _ in range(count):
        filed = http.post("/api/v1/applications", json=applicant_body())
        filed.raise_for_status()
        urls.append(f"/api/v1/applications/{filed.json()['id']}")
    ids: list[str] = []
    deadline = time.monotonic() + timeout
    for url in urls:
        while True:
            certificate = http.get(url).json()["certificate"]
            if certificate is not None:
                ids.append(certificate["id"])
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"no certificate within {timeout:.0f} s")
            time.sleep(0.05)
    return ids


def verdict(ratio: float, goal: float, *, higher_is_better: bool = True) -> str:
    """``MET`` or ``NOT MET`` and by how much, for a ratio against its goal."""
    met = ratio >= goal if higher_is_better else ratio <= goal
    if met:
        return f"goal {'>=' if higher_is_better else '<='} {goal:g}: MET"
    return (
        f"goal {'>=' if higher_is_better else '<='} {goal:g}: NOT MET ({ratio / goal:.2f} of goal)"
    )


def answer_statuses(log_path: Path, route: str = "/api/v1/verify") -> dict[str, int]:
    """How often each HTTP status was answered on ``route``, from gunicorn's access log."""
    counts: dict[str, int] = {}
    marker = f' {route}" '
    for line in log_path.read_text(errors="replace").splitlines():
        if marker in line:
            status = line.split(marker, 1)[1][:3]
            counts[status] = counts.get(status, 0) + 1
    return counts


def report_bad_answers(log_path: Path, label: str) -> None:
    """Print any non-200 answers and the errors the service logged: a benchmark of failures
    measures nothing, so they must be visible."""
    statuses = answer_statuses(log_path)
    if set(statuses) - {"200"}:
        print(f"  [{label}] answers by status: {statuses}")
        errors = [
            line
            for line in log_path.read_text(errors="replace").splitlines()
            if "Error" in line or "Exception" in line
        ]
        for line in errors[:5]:
            print(f"  [{label}] {line[:300]}")
