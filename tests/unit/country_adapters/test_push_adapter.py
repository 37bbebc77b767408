"""The push adapter against a real HTTP server on loopback (no mocked transport)."""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from country_adapters.base import AdapterError, Answer, Outcome, Pending, Query, Subject
from country_adapters.http_push import MAX_ANSWER_BYTES, PushAdapter

ANSWER = {
    "outcome": "record_found",
    "records": [
        {
            "offence": "Fraud",
            "category": "fraud",
            "date": "2014-05-06",
            "court": "Reykjavik District Court",
            "sentence": "Suspended sentence, 6 months",
        }
    ],
    "reference": "IS-2024-77",
}

Reply = Callable[["_Handler"], None]


class _Handler(BaseHTTPRequestHandler):
    """Counts every request and answers as the server's ``reply`` says."""

    server: _AgencyServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        with self.server.lock:
            self.server.requests.append(
                {"content_type": self.headers.get("Content-Type"), "body": body.decode()}
            )
        self.server.reply(self)

    def send_body(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


class _AgencyServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.reply: Reply = lambda handler: handler.send_body(200, json.dumps(ANSWER).encode())
        self.release = threading.Event()  # lets hanging handlers end at teardown

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/queries"

    @property
    def count(self) -> int:
        with self.lock:
            return len(self.requests)


@pytest.fixture
def agency() -> Iterator[_AgencyServer]:
    """A real HTTP server on a free loopback port, in a thread."""
    server = _AgencyServer()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


SIGNING_KEY = Ed25519PrivateKey.generate()


def _adapter(endpoint: str, **overrides: Any) -> PushAdapter:
    settings: dict[str, Any] = {
        "country": "IS",
        "authority": "Icelandic Police",
        # a fresh agency id per adapter: circuit breakers are per agency, per process
        "agency_id": secrets.token_hex(8),
        "endpoint": endpoint,
        "deadline": timedelta(days=14),
        "sign": lambda claims: jwt.encode(
            claims, SIGNING_KEY, algorithm="EdDSA", headers={"kid": "k1"}
        ),
        "answer_url": lambda check_id: f"http://ipc.test/api/v1/agency/queries/{check_id}/answer",
        "timeout": 0.5,
    }
    settings.update(overrides)
    return PushAdapter(**settings)


def _query(attempt: int = 1) -> Query:
    now = datetime.now(UTC)
    return Query(
        check_id="chk123",
        country="IS",
        subject=Subject(
            family_name="Jonsdottir",
            given_names="Anna",
            other_names=(),
            date_of_birth=date(1990, 4, 17),
            place_of_birth_city="Reykjavik",
            place_of_birth_country="IS",
            nationalities=("IS",),
            document_type="passport",
            document_number="A1234567",
            document_issuing_country="IS",
            document_expires=date(2031, 1, 1),
        ),
        residences=(),
        requested_at=now,
        deadline=now + timedelta(days=14),
        attempt=attempt,
    )


def _raises(adapter: PushAdapter) -> AdapterError:
    with pytest.raises(AdapterError) as caught:
        adapter.submit(_query())
    return caught.value


def test_an_answer_at_once_is_read_and_the_query_travels_signed(agency: _AgencyServer) -> None:
    adapter = _adapter(agency.url)
    result = adapter.submit(_query(attempt=2))
    assert isinstance(result, Answer)
    assert result.outcome is Outcome.RECORD_FOUND
    assert result.reference == "IS-2024-77"
    assert [r.court for r in result.records] == ["Reykjavik District Court"]

    [request] = agency.requests
    assert request["content_type"] == "application/jose"
    claims = jwt.decode(
        request["body"],
        SIGNING_KEY.public_key(),
        algorithms=["EdDSA"],
        audience=adapter.agency_id,
    )
    assert claims["jti"] == "chk123.2"
    assert claims["exp"] - claims["iat"] <= 300
    assert claims["query"]["id"] == "chk123"
    assert claims["query"]["subject"]["family_name"] == "Jonsdottir"
    assert claims["query"]["answer_url"].endswith("/queries/chk123/answer")


def test_202_is_pending_with_the_agency_reference(agency: _AgencyServer) -> None:
    agency.reply = lambda h: h.send_body(202, b'{"reference": "IS-REF-9"}')
    assert _adapter(agency.url).submit(_query()) == Pending(reference="IS-REF-9")


def test_202_without_a_usable_body_is_still_pending(agency: _AgencyServer) -> None:
    agency.reply = lambda h: h.send_body(202, b"accepted", "text/plain")
    assert _adapter(agency.url).submit(_query()) == Pending(reference=None)


def test_a_timeout_is_retryable_and_bounded(agency: _AgencyServer) -> None:
    def hang(handler: _Handler) -> None:
        agency.release.wait(5)  # until teardown, well past the adapter's timeout
        handler.send_body(200, b"{}")

    agency.reply = hang
    started = time.monotonic()
    error = _raises(_adapter(agency.url, timeout=0.3))
    assert error.retryable
    assert time.monotonic() - started < 2


def test_a_trickled_body_is_cut_off_at_the_timeout(agency: _AgencyServer) -> None:
    def trickle(handler: _Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        for _ in range(1000):  # one byte every 0.1 s: each read is quick, the whole is not
            if agency.release.wait(0.1):
                return
            handler.wfile.write(b" ")
            handler.wfile.flush()

    agency.reply = trickle
    started = time.monotonic()
    error = _raises(_adapter(agency.url, timeout=0.5))
    assert error.retryable
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_5xx_is_retryable(agency: _AgencyServer, status: int) -> None:
    agency.reply = lambda h: h.send_body(status, b'{"error": "down"}')
    assert _raises(_adapter(agency.url)).retryable


def test_a_closed_port_is_retryable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert _raises(_adapter(f"http://127.0.0.1:{port}/queries")).retryable


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_a_4xx_is_not_retryable(agency: _AgencyServer, status: int) -> None:
    agency.reply = lambda h: h.send_body(status, b'{"error": "refused"}')
    assert not _raises(_adapter(agency.url)).retryable


@pytest.mark.parametrize(
    "body",
    [
        b"<html>not json</html>",
        b'{"outcome": "clear", "records": []}',
        b'{"outcome": "record_found", "records": []}',
        b'{"outcome": "no_record", "records": [], "reference": "x", "extra": 1}',
        b'{"outcome": "no_record"',
        b"[]",
    ],
)
def test_a_malformed_answer_is_not_retryable_and_never_an_answer(
    agency: _AgencyServer, body: bytes
) -> None:
    agency.reply = lambda h: h.send_body(200, body)
    error = _raises(_adapter(agency.url))
    assert not error.retryable
    assert "malformed" in str(error)


def test_an_oversized_answer_is_not_retryable(agency: _AgencyServer) -> None:
    padded = {"outcome": "no_record", "records": [], "reference": "x" * (MAX_ANSWER_BYTES + 10)}
    agency.reply = lambda h: h.send_body(200, json.dumps(padded).encode())
    error = _raises(_adapter(agency.url))
    assert not error.retryable
    assert "bytes" in str(error)


def test_an_oversized_body_without_length_is_cut_off(agency: _AgencyServer) -> None:
    def endless(handler: _Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.end_headers()  # no Content-Length: the body ends when the connection does
        handler.close_connection = True
        chunk = b"x" * 8192
        try:
            for _ in range(1000):  # 8 MB if nobody stops reading
                handler.wfile.write(chunk)
        except OSError:
            return  # the client hung up, as it should

    agency.reply = endless
    error = _raises(_adapter(agency.url, timeout=2))
    assert not error.retryable


def test_the_circuit_opens_after_repeated_failures_and_stops_calling(
    agency: _AgencyServer,
) -> None:
    agency.reply = lambda h: h.send_body(503, b"{}")
    adapter = _adapter(agency.url, breaker_failures=3, breaker_reset_seconds=0.5)
    for _ in range(3):
        assert _raises(adapter).retryable
    assert agency.count == 3

    for _ in range(5):
        error = _raises(adapter)
        assert error.retryable
        assert "circuit open" in str(error)
    assert agency.count == 3, "an open circuit does not call the agency"

    # after the reset timeout one trial call goes through; its success closes the circuit
    agency.reply = lambda h: h.send_body(200, json.dumps(ANSWER).encode())
    time.sleep(0.6)
    assert isinstance(adapter.submit(_query()), Answer)
    assert isinstance(adapter.submit(_query()), Answer)
    assert agency.count == 5


def test_refusals_and_malformed_answers_do_not_open_the_circuit(agency: _AgencyServer) -> None:
    agency.reply = lambda h: h.send_body(200, b"not json")
    adapter = _adapter(agency.url, breaker_failures=2)
    for _ in range(4):
        assert not _raises(adapter).retryable
    assert agency.count == 4


def test_the_circuit_is_per_agency(agency: _AgencyServer) -> None:
    agency.reply = lambda h: h.send_body(500, b"{}")
    failing = _adapter(agency.url, breaker_failures=2, breaker_reset_seconds=60)
    for _ in range(3):
        _raises(failing)
    assert agency.count == 2
    agency.reply = lambda h: h.send_body(200, json.dumps(ANSWER).encode())
    assert isinstance(_adapter(agency.url).submit(_query()), Answer)
    assert agency.count == 3
