"""The push adapter: send each query to the agency's own endpoint.

The query travels as a compact JWS signed with the service's key (the agency
checks it against the service's published JWKS). The agency answers at once
(HTTP 200 with an answer document) or later (HTTP 202, then through the agency
API). Every call has a timeout; transport failures and 5xx answers are
retryable; a circuit breaker per agency stops hammering an agency that is
down; a malformed or oversized answer never counts as an answer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pybreaker
from pydantic import ValidationError

from country_adapters.base import ADAPTER_API_VERSION, AdapterError, Answer, Pending, Query
from country_adapters.documents import AnswerIn, query_document

MAX_ANSWER_BYTES = 64 * 1024
_breakers: dict[str, pybreaker.CircuitBreaker] = {}
_breakers_lock = threading.Lock()


def breaker_for(
    name: str, fail_max: int = 5, reset_timeout: float = 30.0
) -> pybreaker.CircuitBreaker:
    """The circuit breaker of one agency, shared by every adapter instance in this process."""
    with _breakers_lock:
        if name not in _breakers:
            _breakers[name] = pybreaker.CircuitBreaker(
                fail_max=fail_max, reset_timeout=reset_timeout, name=name
            )
        return _breakers[name]


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
        breaker = breaker_for(self.agency_id, self.breaker_failures, self.breaker_reset_seconds)
        called = False

        def post(signed: str) -> tuple[int, bytes | None]:
            nonlocal called
            called = True
            return self._post(signed)

        try:
            status, body = breaker.call(post, token)
        except pybreaker.CircuitBreakerError as exc:
            if called:  # a trial call failed and the circuit opened again: a real attempt
                raise AdapterError(f"{self.country} agency unavailable: trial call failed") from exc
            raise AdapterError(
                f"{self.country} agency: circuit open after repeated failures",
                retry_after=self.breaker_reset_seconds,
            ) from exc
        except _Unavailable as exc:
            raise AdapterError(f"{self.country} agency unavailable: {exc}", retryable=True) from exc
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

        httpx's timeout bounds each network operation, not the whole call: an
        endpoint that trickles its body a few bytes at a time would hold a
        worker for hours. The body is therefore read against an overall
        deadline as well.
        """
        give_up_at = time.monotonic() + self.timeout
        try:
            with (
                httpx.Client(timeout=self.timeout) as client,
                client.stream(
                    "POST",
                    self.endpoint,
                    content=token,
                    headers={"Content-Type": "application/jose", "Accept": "application/json"},
                ) as response,
            ):
                body = bytearray()
                for chunk in response.iter_bytes():
                    body.extend(chunk)
                    if len(body) > MAX_ANSWER_BYTES:
                        break
                    if time.monotonic() > give_up_at:
                        raise _Unavailable(f"answer not complete within {self.timeout} s")
                status = response.status_code
        except httpx.HTTPError as exc:
            raise _Unavailable(type(exc).__name__) from exc
        if status >= 500:
            raise _Unavailable(f"HTTP {status}")
        return status, bytes(body) if len(body) <= MAX_ANSWER_BYTES else None


def _reference(body: bytes) -> str | None:
    try:
        value = httpx.Response(200, content=body).json().get("reference")
    except (ValueError, AttributeError):
        return None
    return str(value)[:200] if value else None
