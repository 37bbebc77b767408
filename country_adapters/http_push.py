"""The push adapter: send each query to the agency's own endpoint.

The query travels as a compact JWS signed with the service's key (the agency
checks it against the service's published JWKS). The agency answers at once
(HTTP 200 with an answer document) or later (HTTP 202, then through the agency
API). A malformed or oversized answer never counts as an answer.

One slow or hostile agency must not slow any other country down:

* **A whole-call deadline.** Connecting, sending, waiting for the status line
  and headers, and reading the body all fit in ``timeout`` seconds together
  (``anyio.fail_after`` around the whole exchange), so an endpoint that
  trickles its headers or body a byte a second is cut off on time; httpx's
  own timeouts bound each network operation only.
* **A bulkhead per agency.** At most ``max_concurrent`` calls to one agency
  are in flight in a process; a check that finds them all busy is deferred
  (``AdapterError`` with ``retry_after``, which is not an attempt), so the
  worker threads stay free for the other countries, and the agency still
  gets every call, a few at a time.
* **A circuit breaker per agency** whose lock guards its counters only, never
  the HTTP call (pybreaker's ``call`` holds its lock for the whole call, which
  made calls to one slow agency run one at a time while waiting threads
  filled the pool).
"""

from __future__ import annotations

import functools
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import httpx
from pydantic import ValidationError

from country_adapters.base import ADAPTER_API_VERSION, AdapterError, Answer, Pending, Query
from country_adapters.documents import AnswerIn, query_document

MAX_ANSWER_BYTES = 64 * 1024
#: How long a check waits when every call slot of its agency is busy.
BUSY_RETRY_SECONDS = 1.0


@dataclass
class CircuitBreaker:
    """Closed, open for ``reset_timeout`` seconds after ``fail_max`` failures in a row, then
    half-open: one trial call at a time decides. The lock is held for bookkeeping only."""

    fail_max: int = 5
    reset_timeout: float = 30.0
    failures: int = 0
    opened_at: float | None = None
    trial_running: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def allow(self) -> bool:
        """Whether a call may go out now (in half-open state: the one trial)."""
        with self._lock:
            if self.opened_at is None:
                return True
            if time.monotonic() - self.opened_at < self.reset_timeout or self.trial_running:
                return False
            self.trial_running = True
            return True

    def succeeded(self) -> None:
        """A call got through: close the circuit."""
        with self._lock:
            self.failures = 0
            self.opened_at = None
            self.trial_running = False

    def failed(self) -> bool:
        """A call failed; True when the circuit is (again) open."""
        with self._lock:
            self.failures += 1
            if self.trial_running or self.failures >= self.fail_max:
                self.opened_at = time.monotonic()
            self.trial_running = False
            return self.opened_at is not None

    @property
    def is_open(self) -> bool:
        """True while calls are held back."""
        with self._lock:
            return self.opened_at is not None


@dataclass
class AgencyGuard:
    """What protects the service from one agency: its breaker and its bulkhead."""

    breaker: CircuitBreaker
    slots: threading.BoundedSemaphore


_guards: dict[str, AgencyGuard] = {}
_guards_lock = threading.Lock()


def guard_for(
    name: str, fail_max: int = 5, reset_timeout: float = 30.0, max_concurrent: int = 4
) -> AgencyGuard:
    """The breaker and bulkhead of one agency, shared by every adapter in this process."""
    with _guards_lock:
        if name not in _guards:
            _guards[name] = AgencyGuard(
                CircuitBreaker(fail_max=fail_max, reset_timeout=reset_timeout),
                threading.BoundedSemaphore(max(max_concurrent, 1)),
            )
        return _guards[name]


class _Unavailable(Exception):
    """A transport failure or a 5xx: counts against the circuit breaker."""


@dataclass
class PushAdapter:
    """Calls one agency's endpoint."""

    country: str
    authority: str
    agency_id: str
    endpoint: str
    deadline: timedelta | None
    sign: Callable[[dict[str, Any]], str]
    answer_url: Callable[[str], str]
    timeout: float = 10.0
    breaker_failures: int = 5
    breaker_reset_seconds: float = 30.0
    max_concurrent: int = 4
    api_version: int = ADAPTER_API_VERSION
    pollable: bool = False
    specimen: bool = False

    def submit(self, query: Query) -> Answer | Pending:
        """POST the signed query; read the agency's answer or its promise to answer later."""
        now = datetime.now(UTC)
        token = self.sign(
            {
                "aud": self.agency_id,
                "iat": int(now.timestamp()),
                "exp": int((now + timedelta(minutes=5)).timestamp()),
                "jti": f"{query.check_id}.{query.attempt}",
                "query": {**query_document(query), "answer_url": self.answer_url(query.check_id)},
            }
        )
        guard = guard_for(
            self.agency_id, self.breaker_failures, self.breaker_reset_seconds, self.max_concurrent
        )
        if not guard.slots.acquire(blocking=False):
            raise AdapterError(
                f"{self.country} agency: {self.max_concurrent} calls already in flight",
                retry_after=BUSY_RETRY_SECONDS,
            )
        try:
            if not guard.breaker.allow():
                raise AdapterError(
                    f"{self.country} agency: circuit open after repeated failures",
                    retry_after=self.breaker_reset_seconds,
                )
            try:
                status, body = self._post(token)
            except _Unavailable as exc:
                guard.breaker.failed()
                raise AdapterError(
                    f"{self.country} agency unavailable: {exc}", retryable=True
                ) from exc
            guard.breaker.succeeded()
        finally:
            guard.slots.release()
        if body is None:
            raise AdapterError(
                f"{self.country} agency sent an answer over {MAX_ANSWER_BYTES} bytes",
                retryable=False,
            )
        if status == 202:
            return Pending(reference=_reference(body))
        if status != 200:
            raise AdapterError(
                f"{self.country} agency refused the query: HTTP {status}", retryable=False
            )
        try:
            answer = AnswerIn.model_validate_json(body)
        except ValidationError as exc:
            raise AdapterError(
                f"{self.country} agency sent a malformed answer", retryable=False
            ) from exc
        return answer.to_answer(answered_at=now)

    def poll(self, query: Query) -> Answer | Pending:
        """Never polled: a later answer comes through the agency API."""
        return Pending()

    def _post(self, token: str) -> tuple[int, bytes | None]:
        """The status and body (None when oversized); _Unavailable for outages.

        The whole exchange runs under one deadline: see the module docstring.
        """
        try:
            status, body = anyio.run(self._exchange, token)
        except TimeoutError as exc:
            raise _Unavailable(f"no complete answer within {self.timeout} s") from exc
        except httpx.HTTPError as exc:
            raise _Unavailable(type(exc).__name__) from exc
        if status >= 500:
            raise _Unavailable(f"HTTP {status}")
        return status, bytes(body) if len(body) <= MAX_ANSWER_BYTES else None

    async def _exchange(self, token: str) -> tuple[int, bytearray]:
        # The client (and its TLS set-up, shared by every call) is made before the clock
        # starts: the deadline bounds what the agency controls, not our own CPU time.
        async with httpx.AsyncClient(timeout=self.timeout, verify=_tls_context()) as client:
            with anyio.fail_after(self.timeout):
                async with client.stream(
                    "POST",
                    self.endpoint,
                    content=token,
                    headers={"Content-Type": "application/jose", "Accept": "application/json"},
                ) as response:
                    body = bytearray()
                    async for chunk in response.aiter_bytes():
                        body.extend(chunk)
                        if len(body) > MAX_ANSWER_BYTES:
                            break
                    return response.status_code, body


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context for every push call (loading the CA bundle is slow)."""
    return httpx.create_ssl_context()


def _reference(body: bytes) -> str | None:
    try:
        value = httpx.Response(200, content=body).json().get("reference")
    except (ValueError, AttributeError):
        return None
    return str(value)[:200] if value else None
