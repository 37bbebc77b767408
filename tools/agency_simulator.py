"""A national agency, simulated: a small WSGI app run as its own process, for tests and demos.

It plays one agency towards a running service, in one of two modes:

``push``
    The service POSTs each query to ``/queries`` as a compact JWS
    (``Content-Type: application/jose``). The simulator checks it against the
    service's published keys (``{service}/.well-known/jwks.json``, the token's
    ``kid`` choosing among them, EdDSA only) and checks that ``aud`` is its own
    agency id; a token that fails either is answered 401. Then it behaves as
    configured (see *Behaviours*).
``api``
    A background thread polls ``GET /api/v1/agency/queries?status=open`` and
    answers each query once through ``POST /api/v1/agency/queries/{id}/answer``.

Every call to the agency API authenticates with a JWT client assertion signed
with the agency's private key (ES256 for an EC P-256 key, EdDSA for Ed25519):
``iss`` = the agency id, ``aud`` = the service's base URL, ``iat``, ``exp`` two
minutes later and a fresh random ``jti``.

Outcomes follow the sandbox's rule, on the subject's family name (upper-cased):
``RECORD...`` → ``record_found`` with one record, ``NOMATCH...`` →
``identity_unconfirmed``, anything else → ``no_record``.

Behaviours (``--behaviour``; change at run time with ``POST /_control``):

=================  ==========================================================
``now``            push: 200 with the answer document at once
``later``          push: 202 ``{"reference"}``, then the answer through the API
                   after ``--answer-delay`` seconds
``timeout``        push: sleep ``--hang-seconds`` (longer than the service's
                   push timeout) before answering
``slow``           push: 200 with the answer, after ``--slow-seconds``: a slow
                   but working agency, which must still get every query
``trickle_headers``  push: the status line and headers one byte a second
                   (the answer follows if the caller is still there): an
                   endpoint that defeats per-read timeouts
``error``          push: HTTP 500
``malformed``      push: 200 with a body that is not a valid answer
                   (``{"outcome": "clear", ...}``)
``oversized``      push: 200 with a well-formed answer padded past 64 KiB
``duplicate``      the answer is sent through the API twice (push: after a 202)
``conflict``       an answer, then a *different* answer to the same query
``wrong_signature``  assertions are signed with a key the service does not know
=================  ==========================================================

``--recover-after N`` makes a fault last for the first ``N`` pushes only;
later pushes are answered at once. ``--latency`` delays every answer.

Endpoints for the test harness (never part of a real agency):

* ``GET /_health`` → ``{"status": "ok"}``
* ``GET /_log`` → what happened: ``pushes`` received (and the status the
  simulator gave), ``rejected`` pushes, ``answers`` sent (the exact document,
  how it travelled, and the service's HTTP status), and API ``polls``.
* ``POST /_control`` ``{"behaviour": "now"}`` → change the behaviour.

Run it::

    python -m tools.agency_simulator --port 8100 --mode push \\
        --agency-id 3f0c... --service http://127.0.0.1:5000 \\
        --private-key agency-key.pem --behaviour later

Each option can also come from an environment variable ``AGENCY_SIM_<OPTION>``
(``AGENCY_SIM_PORT``, ``AGENCY_SIM_MODE``, ``AGENCY_SIM_BEHAVIOUR``, ...).
The simulator only ever listens on the host given (default ``127.0.0.1``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask, Response, jsonify, request
from werkzeug.serving import make_server

log = logging.getLogger("agency_simulator")

MODES = ("push", "api")
BEHAVIOURS = (
    "now",
    "later",
    "timeout",
    "slow",
    "trickle_headers",
    "error",
    "malformed",
    "oversized",
    "duplicate",
    "conflict",
    "wrong_signature",
)
ASSERTION_LIFETIME_SECONDS = 120
OVERSIZED_BYTES = 100 * 1024  # past the service's 64 KiB limit
TRICKLE = -1  # a push reply that the view writes itself, a byte a second

PrivateKey = Ed25519PrivateKey | ec.EllipticCurvePrivateKey


@dataclass
class SimulatorSettings:
    """How the simulated agency behaves; see the module docstring."""

    mode: str
    agency_id: str
    service_url: str
    private_key: PrivateKey | None = None
    behaviour: str = "now"
    latency: float = 0.0
    answer_delay: float = 0.5
    hang_seconds: float = 30.0
    slow_seconds: float = 5.0
    recover_after: int | None = None
    poll_interval: float = 0.5
    http_timeout: float = 10.0

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        if self.behaviour not in BEHAVIOURS:
            raise ValueError(f"behaviour must be one of {BEHAVIOURS}")
        self.service_url = self.service_url.rstrip("/")


def load_private_key(path: str | os.PathLike[str]) -> PrivateKey:
    """An unencrypted PEM private key: EC P-256 or Ed25519."""
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    if isinstance(key, Ed25519PrivateKey):
        return key
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return key
    raise ValueError("the agency key must be EC P-256 (ES256) or Ed25519 (EdDSA)")


def algorithm_of(key: PrivateKey) -> str:
    """The JWS algorithm a key signs with."""
    return "EdDSA" if isinstance(key, Ed25519PrivateKey) else "ES256"


def make_assertion(agency_id: str, audience: str, key: PrivateKey) -> str:
    """A fresh client assertion for the agency API (unique ``jti``, two-minute lifetime)."""
    now = int(time.time())
    claims = {
        "iss": agency_id,
        "aud": audience,
        "iat": now,
        "exp": now + ASSERTION_LIFETIME_SECONDS,
        "jti": secrets.token_urlsafe(18),
    }
    return jwt.encode(claims, key, algorithm=algorithm_of(key))


def answer_for(query: dict[str, Any]) -> dict[str, Any]:
    """The answer the sandbox rule gives for ``query``: ``{"outcome", "records", "reference"}``."""
    family_name = str(query.get("subject", {}).get("family_name", "")).upper()
    query_id = str(query.get("id", ""))
    country = str(query.get("country", "")) or "XX"
    reference = f"SIM-{country}-{query_id[:12]}"
    if family_name.startswith("RECORD"):
        record = {
            "offence": "Theft of a bicycle",
            "category": "property",
            "date": "2015-03-02",
            "court": f"{country} Simulated District Court",
            "sentence": "Fine of 200 units",
        }
        return {"outcome": "record_found", "records": [record], "reference": reference}
    if family_name.startswith("NOMATCH"):
        return {"outcome": "identity_unconfirmed", "records": [], "reference": reference}
    return {"outcome": "no_record", "records": [], "reference": reference}


def different_answer(answer: dict[str, Any]) -> dict[str, Any]:
    """An answer that differs from ``answer`` in its outcome."""
    outcome = "no_record" if answer["outcome"] == "identity_unconfirmed" else "identity_unconfirmed"
    return {"outcome": outcome, "records": [], "reference": answer.get("reference")}


class JWKSCache:
    """The service's published keys, fetched on first use and again for an unknown ``kid``."""

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self.timeout = timeout
        self._keys: dict[str, jwt.PyJWK] = {}
        self._lock = threading.Lock()

    def get(self, kid: str) -> jwt.PyJWK | None:
        """The public key for ``kid``, or None when the service does not publish it."""
        with self._lock:
            if kid not in self._keys:
                self._refresh()
            return self._keys.get(kid)

    def _refresh(self) -> None:
        document = httpx.get(self.url, timeout=self.timeout).json()
        for jwk in document.get("keys", []):
            if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519" and "kid" in jwk:
                self._keys[jwk["kid"]] = jwt.PyJWK(jwk, algorithm="EdDSA")


class QueryRejected(Exception):
    """A pushed query that does not come from the service or is not for this agency."""


@dataclass
class Simulator:
    """The agency's state: its settings, what it has seen and what it answered."""

    settings: SimulatorSettings
    pushes: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    answers: list[dict[str, Any]] = field(default_factory=list)
    polls: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._handled: set[str] = set()
        self._stopping = threading.Event()
        self._unregistered_key = ec.generate_private_key(ec.SECP256R1())
        self.jwks = JWKSCache(
            f"{self.settings.service_url}/.well-known/jwks.json", self.settings.http_timeout
        )

    # -- state -------------------------------------------------------------------------------

    @property
    def behaviour(self) -> str:
        """The behaviour now in force."""
        return self.settings.behaviour

    def set_behaviour(self, behaviour: str) -> None:
        """Change the behaviour (for pushes and answers from now on)."""
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"behaviour must be one of {BEHAVIOURS}")
        self.settings.behaviour = behaviour

    def snapshot(self) -> dict[str, Any]:
        """Everything the simulator has seen and done, for the test harness."""
        with self._lock:
            return {
                "agency_id": self.settings.agency_id,
                "mode": self.settings.mode,
                "behaviour": self.settings.behaviour,
                "pushes": [dict(entry) for entry in self.pushes],
                "rejected": list(self.rejected),
                "answers": list(self.answers),
                "polls": list(self.polls),
            }

    def _log(self, bucket: list[dict[str, Any]], entry: dict[str, Any]) -> None:
        with self._lock:
            bucket.append({"at": time.time(), **entry})

    # -- push mode ---------------------------------------------------------------------------

    def verify_push(self, token: str) -> dict[str, Any]:
        """The query inside a pushed JWS; QueryRejected unless the service signed it for us."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise QueryRejected("malformed token") from exc
        kid = header.get("kid")
        if header.get("alg") != "EdDSA" or not isinstance(kid, str):
            raise QueryRejected("algorithm is not EdDSA or no kid")
        if str(header.get("typ", "")).lower() != "ipc-query+jwt":
            raise QueryRejected("typ is not ipc-query+jwt: not a query")
        key = self.jwks.get(kid)
        if key is None:
            raise QueryRejected("kid is not in the service's JWKS")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=["EdDSA"],
                audience=self.settings.agency_id,
                options={"require": ["iss", "aud", "iat", "exp", "jti"]},
            )
        except jwt.PyJWTError as exc:
            raise QueryRejected(f"token refused: {type(exc).__name__}") from exc
        query = claims.get("query")
        if not isinstance(query, dict) or not isinstance(query.get("id"), str):
            raise QueryRejected("no query in the token")
        return {"kid": kid, "jti": claims["jti"], "query": query}

    def handle_push(self, token: str) -> tuple[int, bytes]:
        """Answer one pushed query as the behaviour says: ``(status, body)``."""
        try:
            verified = self.verify_push(token)
        except QueryRejected as exc:
            self._log(self.rejected, {"reason": str(exc)})
            return 401, json.dumps({"error": str(exc)}).encode()
        query = verified["query"]
        behaviour = self.behaviour
        entry = {
            "at": time.time(),
            "query_id": query["id"],
            "kid": verified["kid"],
            "jti": verified["jti"],
            "status": None,
        }
        with self._lock:
            self.pushes.append(entry)
            number = len(self.pushes)
        recover_after = self.settings.recover_after
        if recover_after is not None and number > recover_after:
            behaviour = "now"
        entry["behaviour"] = behaviour
        status, body = self._push_reply(behaviour, query)
        with self._lock:
            entry["status"] = status
        return status, body

    def _push_reply(self, behaviour: str, query: dict[str, Any]) -> tuple[int, bytes]:
        time.sleep(self.settings.latency)
        answer = answer_for(query)
        if behaviour == "now":
            self._log(self.answers, {"query_id": query["id"], "via": "push", "answer": answer})
            return 200, json.dumps(answer).encode()
        if behaviour == "timeout":
            self._stopping.wait(self.settings.hang_seconds)
            return 200, json.dumps(answer).encode()
        if behaviour == "slow":
            self._stopping.wait(self.settings.slow_seconds)
            self._log(self.answers, {"query_id": query["id"], "via": "push", "answer": answer})
            return 200, json.dumps(answer).encode()
        if behaviour == "trickle_headers":
            return TRICKLE, json.dumps(answer).encode()
        if behaviour == "error":
            return 500, b'{"error": "simulated outage"}'
        if behaviour == "malformed":
            return 200, json.dumps({"outcome": "clear", "records": []}).encode()
        if behaviour == "oversized":
            padded = {**answer, "padding": "x" * OVERSIZED_BYTES}
            return 200, json.dumps(padded).encode()
        # later, duplicate, conflict, wrong_signature: acknowledge now, answer through the API
        threading.Thread(
            target=self._answer_later, args=(query, behaviour), daemon=True, name="sim-later"
        ).start()
        return 202, json.dumps({"reference": answer["reference"]}).encode()

    def trickle(self, sock: socket.socket, body: bytes) -> None:
        """Write a whole HTTP response to ``sock`` with its head one byte a second, then shut
        the connection (the WSGI server's own response then goes nowhere)."""
        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        try:
            for index in range(len(head)):
                sock.sendall(head[index : index + 1])
                if self._stopping.wait(1.0):
                    break
            else:
                sock.sendall(body)
        except OSError:
            pass  # the caller gave up, as it should
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    def _answer_later(self, query: dict[str, Any], behaviour: str) -> None:
        if self._stopping.wait(self.settings.answer_delay):
            return
        self.answer_query(query, behaviour)

    # -- the agency API ----------------------------------------------------------------------

    def _assertion(self, behaviour: str) -> str:
        if behaviour == "wrong_signature":
            return make_assertion(
                self.settings.agency_id, self.settings.service_url, self._unregistered_key
            )
        if self.settings.private_key is None:
            raise RuntimeError("this simulator has no private key: start it with --private-key")
        return make_assertion(
            self.settings.agency_id, self.settings.service_url, self.settings.private_key
        )

    def post_answer(
        self, query_id: str, answer: dict[str, Any], behaviour: str
    ) -> tuple[int | None, Any]:
        """POST one answer through the agency API; ``(status, body)``, status None if unreachable."""
        url = f"{self.settings.service_url}/api/v1/agency/queries/{query_id}/answer"
        headers = {"Authorization": f"Bearer {self._assertion(behaviour)}"}
        try:
            response = httpx.post(
                url, json=answer, headers=headers, timeout=self.settings.http_timeout
            )
        except httpx.HTTPError as exc:
            return None, type(exc).__name__
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text[:500]
        return response.status_code, body

    def answer_query(self, query: dict[str, Any], behaviour: str) -> None:
        """Answer one query through the API as ``behaviour`` says, logging each call."""
        answer = answer_for(query)
        plan = [answer]
        if behaviour == "duplicate":
            plan = [answer, answer]
        elif behaviour == "conflict":
            plan = [answer, different_answer(answer)]
        for sent in plan:
            status, body = self.post_answer(query["id"], sent, behaviour)
            self._log(
                self.answers,
                {
                    "query_id": query["id"],
                    "via": "api",
                    "answer": sent,
                    "status": status,
                    "response": body,
                },
            )

    def poll_once(self) -> None:
        """Fetch the open queries and answer each one not answered before."""
        behaviour = self.behaviour
        url = f"{self.settings.service_url}/api/v1/agency/queries"
        headers = {"Authorization": f"Bearer {self._assertion(behaviour)}"}
        try:
            response = httpx.get(
                url,
                params={"status": "open"},
                headers=headers,
                timeout=self.settings.http_timeout,
            )
        except httpx.HTTPError as exc:
            self._log(self.polls, {"status": None, "error": type(exc).__name__})
            return
        queries = response.json().get("queries", []) if response.status_code == 200 else []
        self._log(self.polls, {"status": response.status_code, "count": len(queries)})
        for query in queries:
            with self._lock:
                if query["id"] in self._handled:
                    continue
                self._handled.add(query["id"])
            time.sleep(self.settings.latency)
            self.answer_query(query, behaviour)

    def poll_forever(self) -> None:
        """Poll until stopped (api mode)."""
        while not self._stopping.is_set():
            try:
                self.poll_once()
            except Exception:
                log.exception("poll failed")
            self._stopping.wait(self.settings.poll_interval)

    def start(self) -> None:
        """Start background work: the poller in api mode."""
        if self.settings.mode == "api":
            threading.Thread(target=self.poll_forever, daemon=True, name="sim-poller").start()

    def stop(self) -> None:
        """Stop polling, and cut short any hanging or delayed answer."""
        self._stopping.set()


def create_app(simulator: Simulator) -> Flask:
    """The simulator's WSGI app."""
    app = Flask(__name__)

    @app.get("/_health")
    def health() -> Response:
        return jsonify({"status": "ok"})

    @app.get("/_log")
    def show_log() -> Response:
        return jsonify(simulator.snapshot())

    @app.post("/_control")
    def control() -> tuple[Response, int]:
        body = request.get_json(silent=True) or {}
        try:
            simulator.set_behaviour(str(body.get("behaviour", "")))
        except ValueError as exc:
            return jsonify({"error": str(exc)}), 400
        return jsonify({"behaviour": simulator.behaviour}), 200

    @app.post("/queries")
    def receive_query() -> Response:
        if simulator.settings.mode != "push":
            return Response(b'{"error": "not in push mode"}', 404, mimetype="application/json")
        if request.mimetype != "application/jose":
            return Response(b'{"error": "expected application/jose"}', 415)
        status, body = simulator.handle_push(request.get_data(as_text=True).strip())
        if status == TRICKLE:
            simulator.trickle(request.environ["werkzeug.socket"], body)
            return Response(b"", 200)  # never reaches the caller: the connection is shut
        return Response(body, status, mimetype="application/json")

    return app


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"AGENCY_SIM_{name.upper().replace('-', '_')}", default)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options, each defaulting to its ``AGENCY_SIM_*`` variable."""
    parser = argparse.ArgumentParser(description="Simulate a national agency (push or api mode).")
    parser.add_argument("--host", default=_env("host", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(_env("port", "0") or 0))
    parser.add_argument("--mode", choices=MODES, default=_env("mode", "push"))
    parser.add_argument("--agency-id", default=_env("agency-id"), required=not _env("agency-id"))
    parser.add_argument("--service", default=_env("service"), required=not _env("service"))
    parser.add_argument("--private-key", default=_env("private-key"), help="PEM private key file")
    parser.add_argument("--behaviour", choices=BEHAVIOURS, default=_env("behaviour", "now"))
    parser.add_argument("--latency", type=float, default=float(_env("latency", "0") or 0))
    parser.add_argument(
        "--answer-delay", type=float, default=float(_env("answer-delay", "0.5") or 0.5)
    )
    parser.add_argument(
        "--hang-seconds", type=float, default=float(_env("hang-seconds", "30") or 30)
    )
    parser.add_argument("--slow-seconds", type=float, default=float(_env("slow-seconds", "5") or 5))
    recover = _env("recover-after")
    parser.add_argument(
        "--recover-after", type=int, default=int(recover) if recover else None, metavar="N"
    )
    parser.add_argument(
        "--poll-interval", type=float, default=float(_env("poll-interval", "0.5") or 0.5)
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the simulator until interrupted."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = SimulatorSettings(
        mode=args.mode,
        agency_id=args.agency_id,
        service_url=args.service,
        private_key=load_private_key(args.private_key) if args.private_key else None,
        behaviour=args.behaviour,
        latency=args.latency,
        answer_delay=args.answer_delay,
        hang_seconds=args.hang_seconds,
        slow_seconds=args.slow_seconds,
        recover_after=args.recover_after,
        poll_interval=args.poll_interval,
    )
    simulator = Simulator(settings)
    server = make_server(args.host, args.port, create_app(simulator), threaded=True)
    port = server.socket.getsockname()[1]
    print(f"agency simulator ({settings.mode}, {settings.behaviour}) on {args.host}:{port}")
    simulator.start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()
        server.server_close()


if __name__ == "__main__":
    main()
