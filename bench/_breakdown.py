"""Where a verification's CPU goes: measured in process, one thread, ``time.process_time``.

The service's app is built in this process on the benchmark's own database
(the gunicorn service keeps running beside it), and each request is a call
of the WSGI application with a ready-made environ (what gunicorn hands it),
so HTTP parsing and gunicorn are left out for both the service and the bare
route alike. Per request:

* **total**: ``POST /api/v1/verify`` with a token, everything on;
* **limiter**: total minus the same request on the same app with the rate
  limiter disabled;
* **lookup**: the certificate read alone (``CertificateReader.by_id``);
* **signature**: parsing the token and checking its signature alone;
* **history**: queueing the history row plus its share of the batched write;
* **framework and the rest**: what remains (the verification lane, the JSON
  body and its schema, the answer and its summary in words, metrics,
  headers, the request log line);
* **bare route**: bench/bare_app.py called the same way.

Each figure is the minimum over a few repetitions (the least disturbed by
neighbours on a shared machine).
"""

from __future__ import annotations

import io
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

REPEATS = 3


def _per_call_us(work: Callable[[], object], count: int) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        started = time.process_time()
        for _ in range(count):
            work()
        best = min(best, time.process_time() - started)
    return best / count * 1e6


def _poster(app: Any, body: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    """A call of ``app`` as gunicorn makes it for ``POST /api/v1/verify`` with ``body``;
    the call returns the decoded answer."""
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(path="/api/v1/verify", method="POST", json=body).get_environ()
    raw = environ["wsgi.input"].read()

    def post() -> dict[str, Any]:
        request = dict(environ, **{"wsgi.input": io.BytesIO(raw)})
        answer: dict[str, Any] = json.loads(b"".join(app(request, lambda *_: None)))
        return answer

    return post


def _service_app(database_url: str, instance: Path) -> Any:
    from certificate import create_app

    return create_app(
        {
            "INSTANCE_PATH": str(instance),
            "DATABASE_URL": database_url,
            "SECRET_KEY": "bench",
            "JOBS_ENABLED": False,
            "VERIFY_RATE_LIMIT": "1000000/minute",
            "RATELIMIT_ENABLED": True,
            "VERIFY_HISTORY_SECONDS": 3600,  # written below, by hand, to time it
        }
    )


def cpu_breakdown(
    database_url: str, instance: Path, token: str, certificate_id: str, count: int = 600
) -> dict[str, float]:
    """Microseconds of CPU per verification request, by part (see the module's doc)."""
    from bare_app import app as bare

    from certificate.runtime import EXTENSION_KEY

    body = {"token": token}
    figures: dict[str, float] = {}
    figures["bare route"] = _per_call_us(_poster(bare, body), count)
    app = _service_app(database_url, instance)
    post = _poster(app, body)
    answer = post()
    if answer.get("status") != "valid":
        raise RuntimeError(f"in-process verification failed: {str(answer)[:300]}")
    # the same app with its limiter on, then off: two apps built apart differ by more
    # than the limiter (their pools, what each has warmed), which this leaves out
    figures["total"] = _per_call_us(post, count)
    app.config["RATELIMIT_ENABLED"] = False
    figures["without limiter"] = _per_call_us(post, count)
    verifier = app.extensions[EXTENSION_KEY].verifier
    figures.update(_parts(verifier, token, certificate_id, count))
    verifier.history.close()
    verifier.reader.dispose()
    figures["limiter"] = max(0.0, figures["total"] - figures.pop("without limiter"))
    parts = ("limiter", "lookup", "signature", "history")
    figures["framework and the rest"] = figures["total"] - sum(figures[p] for p in parts)
    return figures


def _parts(verifier: Any, token: str, certificate_id: str, count: int) -> dict[str, float]:
    """The lookup, the signature check and the history, each alone."""
    from certificate.db import utcnow
    from certificate.signing import jws

    key = verifier.keys.get(jws.parse(token).kid)
    parts = {
        "lookup": _per_call_us(lambda: verifier.reader.by_id(certificate_id), count),
        "signature": _per_call_us(lambda: jws.check(jws.parse(token), key), count),
    }
    verifier.history.flush()
    started = time.process_time()
    for _ in range(count):
        verifier.history.record(certificate_id, utcnow(), "token", "valid", None)
    verifier.history.flush()
    parts["history"] = (time.process_time() - started) / count * 1e6
    return parts


def print_breakdown(label: str, figures: dict[str, float]) -> None:
    """A small table: microseconds and share of the request."""
    total = figures["total"]
    print(f"  [{label}] CPU per request, in process (WSGI calls, one thread):")
    for part in ("framework and the rest", "lookup", "signature", "limiter", "history", "total"):
        print(f"  [{label}]   {part:<24}{figures[part]:8.0f} µs  {figures[part] / total:6.0%}")
    print(f"  [{label}]   {'bare route':<24}{figures['bare route']:8.0f} µs")
