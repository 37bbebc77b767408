"""Structured logs and Prometheus metrics. Neither ever carries personal data.

Metrics (``GET /metrics``):

* ``ipc_checks`` (gauge, by ``status`` and ``country``): read from the database at scrape time;
* ``ipc_agency_answer_seconds`` (histogram, by ``country``): from a query being sent to its answer;
* ``ipc_certificates_issued_total`` and ``ipc_issuance_seconds``;
* ``ipc_verifications_total`` (by ``method`` and ``status``) and ``ipc_verification_seconds``.

Under gunicorn with several workers, set ``PROMETHEUS_MULTIPROC_DIR`` to an
empty directory so that every worker's samples are aggregated.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Blueprint, Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from certificate.db import db

AGENCY_ANSWER_SECONDS = Histogram(
    "ipc_agency_answer_seconds",
    "Time from a query being sent to the agency's answer",
    ["country"],
    buckets=(1, 10, 60, 600, 3600, 6 * 3600, 86400, 3 * 86400, 7 * 86400, 14 * 86400),
)
CERTIFICATES_ISSUED = Counter("ipc_certificates_issued_total", "Certificates issued")
ISSUANCE_FAILURES = Counter(
    "ipc_issuance_failures_total", "Issuance attempts that failed and were scheduled for a retry"
)
ISSUANCE_SECONDS = Histogram("ipc_issuance_seconds", "Time to sign, render and store a certificate")
VERIFICATIONS = Counter("ipc_verifications_total", "Verifications answered", ["method", "status"])
VERIFICATION_SECONDS = Histogram(
    "ipc_verification_seconds", "Time to answer a verification", ["method"]
)
#: One line per answered request (:func:`log_request`).
REQUEST_LOG = logging.getLogger("ipc.request")

bp = Blueprint("observability", __name__)


class CheckStatusCollector(Collector):
    """Checks by status and country, counted in the database when scraped.

    Collected inside the scraping request, with its own database session: a
    second session could wait on the first one's lock (SQLite).
    """

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """One gauge sample per (status, country)."""
        from certificate.checks.models import Check

        gauge = GaugeMetricFamily(
            "ipc_checks", "Checks by status and country", labels=["status", "country"]
        )
        try:
            rows = db.session.execute(
                select(Check.status, Check.country, func.count()).group_by(
                    Check.status, Check.country
                )
            ).all()
        except SQLAlchemyError:
            db.session.rollback()
            rows = []
        for status, country, count in rows:
            gauge.add_metric([status, country], count)
        yield gauge


@contextmanager
def timed(histogram: Histogram, **labels: str) -> Iterator[None]:
    """Observe the duration of the block."""
    started = time.perf_counter()
    try:
        yield
    finally:
        target = histogram.labels(**labels) if labels else histogram
        target.observe(time.perf_counter() - started)


_INSTRUMENTS: tuple[Collector, ...] = (
    AGENCY_ANSWER_SECONDS,
    CERTIFICATES_ISSUED,
    ISSUANCE_FAILURES,
    ISSUANCE_SECONDS,
    VERIFICATIONS,
    VERIFICATION_SECONDS,
)


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text format: this process's instruments (or every gunicorn worker's) and
    the check counts from the database."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        for instrument in _INSTRUMENTS:
            registry.register(instrument)
    registry.register(CheckStatusCollector())
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def configure_logging(app: Flask) -> None:
    """JSON lines on stderr when ``IPC_LOG_FORMAT=json`` (the default under gunicorn)."""
    if app.config.get("LOG_FORMAT", "text") != "json":
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(app.config.get("LOG_LEVEL", "INFO"))

    @app.before_request
    def _request_started() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _log_request(response: Response) -> Response:
        # the route's pattern, not the URL: ids stay out of the log too
        route = request.url_rule.rule if request.url_rule else "unmatched"
        log_request(request.method, route, response.status_code, g.get("request_started"))
        return response


def log_request(method: str, route: str, status: int, started: float | None) -> None:
    """One line per answered request: method, route pattern, status and milliseconds since
    ``started`` (a ``time.perf_counter()`` reading)."""
    REQUEST_LOG.info(
        "request",
        extra={
            "method": method,
            "route": route,
            "status": status,
            "ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
        },
    )
