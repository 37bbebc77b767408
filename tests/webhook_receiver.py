"""A webhook receiver on loopback that records every delivery, and can be told to fail."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Delivery:
    """One POST the receiver got."""

    headers: dict[str, str]
    body: bytes
    answered: int


@dataclass
class Receiver:
    """What arrived; ``failing`` makes it answer 503 (and still record the attempt)."""

    url: str = ""
    deliveries: list[Delivery] = field(default_factory=list)
    failing: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def accepted(self) -> list[Delivery]:
        """The deliveries answered 2xx."""
        with self.lock:
            return [d for d in self.deliveries if d.answered < 300]


@contextmanager
def webhook_receiver(port: int = 0, receiver: Receiver | None = None) -> Iterator[Receiver]:
    """Serve on loopback until the block ends: on ``port`` (default: an ephemeral one), adding
    to ``receiver``'s record when given (a receiver brought back after an outage)."""
    receiver = receiver or Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            status = 503 if receiver.failing else 204
            with receiver.lock:
                receiver.deliveries.append(
                    Delivery({k.lower(): v for k, v in self.headers.items()}, body, status)
                )
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/ipc"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
