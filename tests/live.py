"""Run the service as a real process on loopback, as an operator would."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import jwt
import pyotp
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine, text

from certificate.encryption import DataKeyring, load_data_keys
from tests.databases import fresh_database

ROOT = Path(__file__).resolve().parent.parent
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]
#: seconds a service may take to answer /healthz: gunicorn workers prepare keys, fonts and
#: the PAdES authority before serving (certificate/warmup.py), slow on a loaded machine
START_TIMEOUT = 120


T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 15) -> T:
    """Poll ``probe`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")


def gunicorn_command(app_spec: str, port: int, *extra: str) -> list[str]:
    """gunicorn with the project's own gunicorn.conf.py, bound to ``port`` on loopback
    (``extra`` options after the settings file's, so they override it)."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        str(ROOT / "gunicorn.conf.py"),
        "--bind",
        f"127.0.0.1:{port}",
        *extra,
        app_spec,
    ]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveService:
    """A service process (``flask run`` or gunicorn) and the environment it runs with."""

    base_url: str
    env: dict[str, str]
    server: str = "flask"
    process: subprocess.Popen[bytes] | None = None
    helpers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self, **kwargs: Any) -> httpx.Client:
        """An HTTP client for the service, closed when the service stops."""
        kwargs.setdefault("timeout", 10)
        client = httpx.Client(base_url=self.base_url, **kwargs)
        self.clients.append(client)
        return client

    def applicant(
        self, email: str, password: str = "a long enough password", **kwargs: Any
    ) -> httpx.Client:
        """Sign up an applicant and return a client that sends their bearer token."""
        http = self.client(**kwargs)
        http.post(
            "/api/v1/accounts", json={"email": email, "password": password, "name": email}
        ).raise_for_status()
        token = http.post("/api/v1/tokens", json={"email": email, "password": password})
        token.raise_for_status()
        http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        return http

    def browser(self, email: str, password: str) -> httpx.Client:
        """Log in through the pages as a person would (CSRF tokens, and the second factor:
        an officer's or admin's first log-in enrols an authenticator, whose code is given)."""
        http = self.client()
        form = {"email": email, "password": password, "csrf_token": _csrf(http.get("/login"))}
        answer = http.post("/login", data=form)
        if answer.status_code == 303 and answer.headers["location"].endswith("/login/code"):
            page = http.get("/login/code")
            enrolling = re.search(r'data-totp-secret="([A-Z2-7]+)"', page.text)
            assert enrolling, "only a first log-in (enrolment) is supported here"
            code = pyotp.TOTP(enrolling.group(1)).now()
            answer = http.post("/login/code", data={"code": code, "csrf_token": _csrf(page)})
        assert answer.status_code == 303, answer.text
        assert "/login" not in answer.headers["location"], answer.headers["location"]
        return http

    def agency_queries(self, agency_id: str, private_key: Path) -> list[dict[str, Any]]:
        """The open queries an agency's own system sees (``GET /api/v1/agency/queries``)."""
        answer = httpx.get(
            f"{self.base_url}/api/v1/agency/queries?status=open",
            headers={
                "Authorization": f"Bearer {agency_token(agency_id, private_key, self.base_url)}"
            },
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        queries: list[dict[str, Any]] = answer.json()["queries"]
        return queries

    def spawn(self, *args: str, name: str) -> subprocess.Popen[bytes]:
        """Start another process of the deployment (a Celery worker, the scheduler) in its
        own process group, logging to ``<name>.log`` beside the service's log."""
        log_path = self.log_path.with_name(f"{name}.log")
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", *args],
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.helpers.append(process)
        return process

    def command(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run an operator command against the same instance (``flask --app wsgi ...``)."""
        return subprocess.run(
            [*FLASK, *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    @property
    def log_path(self) -> Path:
        """Where the service's output goes."""
        return Path(self.env["IPC_INSTANCE_PATH"]).parent / "service.log"

    @property
    def database_url(self) -> str:
        """The database the service uses."""
        return self.env["IPC_DATABASE_URL"]

    def query(self, sql: str, **params: object) -> list[tuple[object, ...]]:
        """Read the service's database directly, as an operator would with a SQL client."""
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as connection:
                return [tuple(row) for row in connection.execute(text(sql), params)]
        finally:
            engine.dispose()

    def keyring(self) -> DataKeyring:
        """The instance's data keys, to open sealed values as an operator holding them can."""
        instance = Path(self.env["IPC_INSTANCE_PATH"])
        return DataKeyring(*load_data_keys(instance, self.env.get("IPC_DATA_KEYS")))

    def start(self) -> None:
        """Start the web process and wait until it answers /healthz."""
        port = self.base_url.rsplit(":", 1)[1]
        if self.server == "gunicorn":
            command = gunicorn_command("wsgi:app", int(port))
        else:
            command = [*FLASK, "run", "--host", "127.0.0.1", "--port", port, "--no-reload"]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command,
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"service exited:\n{self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"service did not start within {START_TIMEOUT} s")

    def kill(self) -> None:
        """SIGKILL the web process group: no chance to clean up, as in a crash."""
        if self.process is not None:
            kill_group(self.process)

    def stop(self) -> None:
        """Terminate the web process and every spawned helper; close the clients."""
        for client in self.clients:
            client.close()
        for process in [*self.helpers, *([self.process] if self.process else [])]:
            stop_group(process)


def _csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    assert found, "the page carries no CSRF token"
    return found.group(1)


def agency_token(agency_id: str, private_key: Path, audience: str) -> str:
    """A client assertion of an agency's own system, signed with its registered key
    (EdDSA for Ed25519, ES256 for EC P-256), valid for a minute, with a fresh ``jti``."""
    key = serialization.load_pem_private_key(private_key.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey | Ed25519PrivateKey)
    now = int(time.time())
    return jwt.encode(
        {
            "iss": agency_id,
            "aud": audience,
            "iat": now,
            "exp": now + 60,
            "jti": secrets.token_hex(16),
        },
        key,
        algorithm="EdDSA" if isinstance(key, Ed25519PrivateKey) else "ES256",
    )


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(process.pid, signum)


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL a process and its children (it leads its own process group)."""
    _signal_group(process, signal.SIGKILL)
    process.wait(timeout=10)


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM a process group, then SIGKILL it if it lingers."""
    _signal_group(process, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        kill_group(process)


@contextmanager
def live_service(tmp_path: Path, server: str = "flask", **settings: str) -> Iterator[LiveService]:
    """A migrated instance in ``tmp_path`` served on a free loopback port.

    ``server`` is ``flask`` (the development server, as ``make run``) or
    ``gunicorn`` (as ``make serve``); ``settings`` are ``IPC_*`` values.
    """
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IPC_")}
    env.update(
        {
            "IPC_INSTANCE_PATH": str(tmp_path / "instance"),
            "IPC_BASE_URL": f"http://127.0.0.1:{port}",
            "IPC_SANDBOX_COUNTRIES": "KE,TH,NG,GB,FR,ES,IN,BR,ZA,PH",
            "IPC_IDENTITY_PROOFING": "sandbox",
            "IPC_SWEEP_INTERVAL_SECONDS": "0.2",
            "IPC_RETRY_BASE_SECONDS": "0.1",
            "IPC_RETRY_MAX_SECONDS": "0.5",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update({f"IPC_{k}": v for k, v in settings.items()})
    with fresh_database(tmp_path) as database:
        env.setdefault("IPC_DATABASE_URL", database)
        service = LiveService(f"http://127.0.0.1:{port}", env, server)
        upgrade = service.command("db", "upgrade")
        if upgrade.returncode != 0:
            raise RuntimeError(upgrade.stderr)
        service.start()
        try:
            yield service
        finally:
            service.stop()


@contextmanager
def redis_server(directory: Path) -> Iterator[str]:
    """A throw-away redis-server on a free loopback port; yields its URL."""
    port = free_port()
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 10
        while (
            subprocess.run(
                ["redis-cli", "-p", str(port), "ping"], capture_output=True, check=False
            ).stdout.strip()
            != b"PONG"
        ):
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop_group(process)
