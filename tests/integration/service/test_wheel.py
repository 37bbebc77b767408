"""A wheel built from the repository runs on its own: migrations, templates, static files
and fonts travel inside it."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import httpx
import pytest

from tests.live import free_port

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.slow


def _run(*args: str, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_wheel_migrates_and_serves_pages_from_another_folder(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("IPC_", "PYTHON"))}
    _run(
        sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
        "--wheel-dir", str(wheels), str(ROOT), cwd=tmp_path, env=clean,
    )  # fmt: skip
    (wheel,) = wheels.glob("international_police_certificate-*.whl")

    # a fresh environment holding only the wheel; its dependencies are read from this one's
    environment = tmp_path / "env"
    _run(sys.executable, "-m", "venv", "--without-pip", str(environment), cwd=tmp_path, env=clean)
    python = str(environment / "bin" / "python")
    _run(
        sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
        "--no-index", str(wheel), cwd=tmp_path, env=clean,
    )  # fmt: skip
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))",
                     cwd=tmp_path, env=clean).strip())  # fmt: skip
    (site / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**clean, "IPC_INSTANCE_PATH": str(tmp_path / "instance")}
    where = _run(
        python, "-c", "import certificate; print(certificate.__file__)", cwd=elsewhere, env=env
    )
    assert where.startswith(str(site)), where

    flask = [python, "-m", "flask", "--app", "certificate"]
    _run(*flask, "db", "upgrade", cwd=elsewhere, env=env)

    port = free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [*flask, "run", "--port", str(port), "--no-reload"],
            cwd=elsewhere,
            env={**env, "IPC_BASE_URL": f"http://127.0.0.1:{port}"},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the service did not start"
            time.sleep(0.3)
        for path, words in (
            ("/", "International Police Certificate"),
            ("/login", "Log in"),
            ("/v", "Verify"),
            ("/static/style.css", "{"),
            ("/api/v1/openapi.json", '"openapi"'),
        ):
            page = httpx.get(base + path, timeout=10)
            assert page.status_code == 200, path
            assert words in page.text, path
    finally:
        server.terminate()
        server.wait(timeout=30)
