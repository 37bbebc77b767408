"""Run the service as a real process on loopback, as an operator would."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveService:
    """A service process and the environment it runs with."""

    base_url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None

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
        default = f"sqlite:///{self.env['IPC_INSTANCE_PATH']}/ipc.sqlite3"
        return self.env.get("IPC_DATABASE_URL", default)

    def query(self, sql: str, **params: object) -> list[tuple[object, ...]]:
        """Read the service's database directly, as an operator would with a SQL client."""
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as connection:
                return [tuple(row) for row in connection.execute(text(sql), params)]
        finally:
            engine.dispose()

    def start(self) -> None:
        """Start the web process and wait until it answers /healthz."""
        port = self.base_url.rsplit(":", 1)[1]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [*FLASK, "run", "--host", "127.0.0.1", "--port", port, "--no-reload"],
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"service exited:\n{self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("service did not start within 30 s")

    def kill(self) -> None:
        """SIGKILL: no chance to clean up, as in a crash."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """Terminate politely."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@contextmanager
def live_service(tmp_path: Path, **settings: str) -> Iterator[LiveService]:
    """A migrated instance in ``tmp_path`` served on a free loopback port."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IPC_")}
    env.update(
        {
            "IPC_INSTANCE_PATH": str(tmp_path / "instance"),
            "IPC_BASE_URL": f"http://127.0.0.1:{port}",
            "IPC_SANDBOX_COUNTRIES": "KE,TH,NG,GB,FR,ES,IN,BR,ZA,PH",
            "IPC_SWEEP_INTERVAL_SECONDS": "0.2",
            "IPC_RETRY_BASE_SECONDS": "0.1",
            "IPC_RETRY_MAX_SECONDS": "0.5",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if os.environ.get("IPC_TEST_DATABASE_URL"):
        env["IPC_DATABASE_URL"] = os.environ["IPC_TEST_DATABASE_URL"]
    env.update({f"IPC_{k}": v for k, v in settings.items()})
    service = LiveService(f"http://127.0.0.1:{port}", env)
    upgrade = service.command("db", "upgrade")
    if upgrade.returncode != 0:
        raise RuntimeError(upgrade.stderr)
    service.start()
    try:
        yield service
    finally:
        service.stop()
