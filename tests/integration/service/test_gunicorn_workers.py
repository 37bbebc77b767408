"""gunicorn.conf.py's worker: pooled keep-alive connections are spread over the workers.

A real gunicorn, with the project's own settings file, serves a WSGI app that
answers with its process id. A client opens its pool of keep-alive
connections at once (as a proxy or a load generator does) and asks each
connection which worker holds it.
"""

from __future__ import annotations

import http.client
import runpy
import subprocess
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.live import ROOT, free_port, gunicorn_command, stop_group, wait_for

SETTINGS = ROOT / "gunicorn.conf.py"
APP = """
import os

def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(os.getpid()).encode()]
"""
WORKERS, THREADS = 2, 4
#: a pool of one connection per thread of every worker
CONNECTIONS = WORKERS * THREADS


@contextmanager
def gunicorn(tmp_path: Path, *extra: str) -> Iterator[int]:
    """gunicorn with the project's settings (``extra`` after them) serving APP; its port."""
    (tmp_path / "pid_app.py").write_text(APP)
    port = free_port()
    command = gunicorn_command(
        "pid_app:app",
        port,
        *("--workers", str(WORKERS), "--threads", str(THREADS)),
        *("--pythonpath", str(tmp_path), *extra),
    )
    with open(tmp_path / "gunicorn.log", "ab") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_for("gunicorn", lambda: _answers(port) or None, timeout=60)
        wait_for("every worker", lambda: len(_workers(process)) == WORKERS or None)
        yield port
    finally:
        stop_group(process)


def _answers(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def _workers(process: subprocess.Popen[bytes]) -> list[str]:
    found = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True)
    return found.stdout.split()


def pool_spread(port: int) -> Counter[str]:
    """Open CONNECTIONS keep-alive connections at once; how many each worker holds."""
    pool = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(CONNECTIONS)]
    try:
        for connection in pool:
            connection.connect()
        holders: Counter[str] = Counter()
        for connection in pool:
            connection.request("GET", "/")
            holders[connection.getresponse().read().decode()] += 1
        return holders
    finally:
        for connection in pool:
            connection.close()


def test_the_settings_serve_with_the_balanced_worker() -> None:
    settings = runpy.run_path(str(SETTINGS))
    assert settings["worker_class"] is settings["BalancedThreadWorker"]
    assert settings["workers"] >= 2
    assert "%(h)s" not in settings["access_log_format"]  # no client's address in the log


def largest_shares(port: int, pools: int) -> list[int]:
    """For each of ``pools`` pools in turn, the most connections one worker held."""
    spreads = [pool_spread(port) for _ in range(pools)]
    assert all(sum(holders.values()) == CONNECTIONS for holders in spreads)
    return [max(holders.values()) for holders in spreads]


def test_a_pool_of_connections_is_spread_over_the_workers(tmp_path: Path) -> None:
    # Balanced, one connection per thread: 4 and 4 (measured: in 28 pools of 30, the others
    # 5 and 3; with three busy loops on the machine's two cores, a mean of 4.0 to 4.4).
    # gunicorn's own worker (``--worker-class gthread``) fails this: one worker took 6 to
    # 8 in 25 pools of 30, a mean of 6.7 (under the busy loops, 4.5 to 8.0).
    with gunicorn(tmp_path) as port:
        shares = largest_shares(port, pools=8)
    assert sum(shares) / len(shares) <= THREADS + 1, shares
