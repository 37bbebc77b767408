"""A real OpenID Connect provider process on loopback (``oidc-provider-mock``), for the tests.

It issues RS256 ID tokens whose ``iss`` is the URL it is reached at, accepts
any client id and secret, and signs a person in when the authorization form
is posted with their ``sub``; their claims are set over HTTP beforehand.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.live import free_port, stop_group


@dataclass
class OidcProvider:
    """A running provider: its issuer URL and process."""

    url: str
    process: subprocess.Popen[bytes]

    def person(self, sub: str, **claims: Any) -> None:
        """Set the claims the provider states about ``sub`` from now on."""
        response = httpx.put(f"{self.url}/users/{sub}", json=claims, timeout=10)
        assert response.status_code == 204, response.text

    def sign_in(self, authorization_url: str, sub: str) -> str:
        """Sign ``sub`` in at ``authorization_url`` as their browser would; returns where the
        provider sends them back (the client's redirect URI with ``code`` and ``state``)."""
        assert authorization_url.startswith(self.url), authorization_url
        form = httpx.get(authorization_url, timeout=10)
        assert form.status_code == 200, form.text
        answer = httpx.post(authorization_url, data={"sub": sub}, timeout=10)
        assert answer.status_code in (302, 303), answer.text
        return str(answer.headers["location"])


@contextmanager
def oidc_provider(log_directory: Path) -> Iterator[OidcProvider]:
    """Start ``python -m oidc_provider_mock`` on a free port; stop it when the block ends."""
    port = free_port()
    log_path = log_directory / f"oidc-provider-{port}.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "oidc_provider_mock",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--require-nonce",
                "true",
                "--no-refresh-token",
                "true",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    provider = OidcProvider(f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the OIDC provider exited:\n{log_path.read_text()}")
            try:
                found = httpx.get(f"{provider.url}/.well-known/openid-configuration", timeout=1)
                if found.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the OIDC provider did not start within 30 s")
            time.sleep(0.1)
        yield provider
    finally:
        stop_group(process)
