"""``flask adapters new CC``: the skeleton of an adapter package that passes its own tests.

The package holds a pyproject with the entry point, an adapter that calls a
registry over HTTP (``IPC_ADAPTER_<CC>_URL``), a fake registry on loopback,
and tests that run the contract kit (``country_adapters.testing``) against it.
"""

from __future__ import annotations

from pathlib import Path
from string import Template

from country_adapters.countries import country_name

PYPROJECT = """\
[build-system]
requires = ["setuptools>=69"]
build-backend = "setuptools.build_meta"

[project]
name = "ipc-adapter-$lower"
version = "0.1.0"
description = "Country adapter for $name ($cc) for the International Police Certificate service."
requires-python = ">=3.11"
dependencies = ["international-police-certificate", "httpx>=0.27,<1"]

[project.entry-points."ipc.country_adapters"]
$cc = "ipc_adapter_$lower:provide"

[tool.setuptools]
packages = ["ipc_adapter_$lower"]

[tool.pytest.ini_options]
testpaths = ["tests"]
filterwarnings = ["error"]
"""

PACKAGE = '''\
"""The adapter for $name ($cc): asks the national registry over HTTP.

Settings (the service passes only this adapter's namespace, prefix removed):

* ``IPC_ADAPTER_${cc}_URL``: the registry's base URL (required);
* ``IPC_ADAPTER_${cc}_TIMEOUT``: seconds per call (default 10).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ipc_adapter_$lower.adapter import RegistryAdapter


def provide(settings: Mapping[str, Any]) -> Iterable[RegistryAdapter]:
    """Entry point: the one adapter of this package, or a clear error naming a missing setting."""
    url = settings.get("URL")
    if not url:
        raise ValueError("IPC_ADAPTER_${cc}_URL is not set: the registry's base URL")
    return [RegistryAdapter(base_url=str(url), timeout=float(settings.get("TIMEOUT") or 10))]
'''

ADAPTER = '''\
"""How a query for $cc becomes a registry case, and the registry's finding an answer.

The registry's API (adapt to the real one): ``PUT /cases/<check_id>`` with the
person; the check id makes a retry land on the same case. The reply is
``{"finding": "clear" | "convicted" | "unconfirmed" | "pending", "reference",
"records": [...]}``; ``GET /cases/<reference>`` asks again about a pending case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from country_adapters.base import (
    ADAPTER_API_VERSION,
    AdapterError,
    Answer,
    Outcome,
    Pending,
    Query,
    Record,
)

FINDINGS = {
    "clear": Outcome.NO_RECORD,
    "convicted": Outcome.RECORD_FOUND,
    "unconfirmed": Outcome.IDENTITY_UNCONFIRMED,
}
POLL_AFTER_SECONDS = 60.0


@dataclass
class RegistryAdapter:
    """The national registry of $name."""

    base_url: str
    timeout: float = 10.0
    country: str = "$cc"
    authority: str = "National criminal records registry of $name"
    api_version: int = ADAPTER_API_VERSION
    deadline: timedelta | None = timedelta(days=10)
    pollable: bool = True
    specimen: bool = False
    _client: httpx.Client = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._client = httpx.Client(base_url=self.base_url, timeout=self.timeout)

    def submit(self, query: Query) -> Answer | Pending:
        """Open (or find again) the case for this query."""
        subject = query.subject
        body = {
            "family_name": subject.family_name,
            "given_names": subject.given_names,
            "date_of_birth": subject.date_of_birth.isoformat(),
            "document_number": subject.document_number,
            "residences": [{"from": r.start, "to": r.end} for r in query.residences],
        }
        return self._read(self._call("PUT", f"/cases/{query.check_id}", body))

    def poll(self, query: Query) -> Answer | Pending:
        """Ask again about the case, by the reference the registry gave."""
        if not query.reference:
            raise AdapterError("no registry reference to poll with", retryable=False)
        return self._read(self._call("GET", f"/cases/{query.reference}", None))

    def close(self) -> None:
        """Close the HTTP client (the service calls this at shutdown)."""
        self._client.close()

    def _call(self, method: str, path: str, body: dict[str, Any] | None) -> Any:
        try:
            response = self._client.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise AdapterError(f"registry unreachable: {type(exc).__name__}") from exc
        if response.status_code >= 500:
            raise AdapterError(f"registry answered HTTP {response.status_code}")
        if response.status_code != 200:
            raise AdapterError(
                f"registry refused the query: HTTP {response.status_code}", retryable=False
            )
        try:
            return response.json()
        except ValueError as exc:
            raise AdapterError("registry answered something that is not JSON") from exc

    def _read(self, reply: Any) -> Answer | Pending:
        finding = reply.get("finding") if isinstance(reply, dict) else None
        reference = reply.get("reference") if isinstance(reply, dict) else None
        if finding == "pending" and isinstance(reference, str):
            return Pending(reference=reference, poll_after=POLL_AFTER_SECONDS)
        if finding not in FINDINGS:
            # never guess: an unknown finding could hide a record
            raise AdapterError(f"registry finding not understood: {finding!r}")
        try:
            records = tuple(Record(**item) for item in reply.get("records") or ())
            return Answer(FINDINGS[finding], records, datetime.now(UTC), reference)
        except (TypeError, ValueError) as exc:
            raise AdapterError(f"registry records not understood: {exc}") from exc
'''

FAKE_REGISTRY = '''\
"""A fake of the $cc registry on loopback, answering by the person's family name.

``Clear`` → clear, ``Convicted`` → one record, ``Unknown`` → unconfirmed,
``Garbled`` → a finding nobody documented, ``Broken`` → HTTP 500,
``Sleepy`` → answers after three seconds, ``Later`` → pending, then clear.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

RECORD = {
    "offence": "Assault",
    "category": "violence",
    "date": "2014-06",
    "court": "District Court",
    "sentence": "Fine",
}


class FakeRegistry:
    """The fake, serving on an ephemeral port while used as a context manager."""

    def __init__(self) -> None:
        self.opened: Counter[str] = Counter()
        self.names: dict[str, str] = {}
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:  # noqa: N802 - the http.server API
                check_id = self.path.rsplit("/", 1)[-1]
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if check_id not in registry.names:
                    registry.opened[check_id] += 1
                registry.names[check_id] = body["family_name"]
                self._answer(body["family_name"], check_id, first=True)

            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                reference = self.path.rsplit("/", 1)[-1]
                self._answer(registry.names.get(reference, ""), reference, first=False)

            def _answer(self, name: str, reference: str, first: bool) -> None:
                if name == "Broken":
                    return self._send(500, {"error": "database down"})
                if name == "Sleepy":
                    time.sleep(3)
                findings = {"Clear": "clear", "Convicted": "convicted", "Unknown": "unconfirmed"}
                finding = findings.get(name, "maybe")
                if name == "Later":
                    finding = "pending" if first else "clear"
                records = [RECORD] if finding == "convicted" else []
                self._send(200, {"finding": finding, "reference": reference, "records": records})

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def cases(self, check_id: str) -> int:
        """How many cases were opened for ``check_id``."""
        return self.opened[check_id]

    def __enter__(self) -> FakeRegistry:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
'''

TESTS = '''\
"""The contract kit run against the adapter and the fake registry."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pytest

from country_adapters.base import Answer, Outcome
from country_adapters.registry import validate_adapter
from country_adapters.testing import RegistryContract, Scenario, call_adapter, sample_query
from ipc_adapter_$lower import provide
from ipc_adapter_$lower.adapter import RegistryAdapter
from tests.fake_registry import FakeRegistry


class TestContract(RegistryContract):
    time_limit = 2.0

    @pytest.fixture
    def registry(self) -> Iterator[FakeRegistry]:
        with FakeRegistry() as fake:
            yield fake

    @pytest.fixture
    def adapter(self, registry: FakeRegistry) -> Iterator[RegistryAdapter]:
        adapter = RegistryAdapter(base_url=registry.url, timeout=0.5)
        yield adapter
        adapter.close()

    @pytest.fixture
    def scenarios(self) -> Mapping[str, Scenario]:
        names = {
            "no_record": "Clear",
            "record": "Convicted",
            "unconfirmed": "Unknown",
            "garbage": "Garbled",
            "server_error": "Broken",
            "slow": "Sleepy",
        }
        return {
            scenario: Scenario(sample_query("$cc", family_name=name, check_id=f"{scenario:0<32}"))
            for scenario, name in names.items()
        }


def test_a_pending_case_is_polled_by_its_reference(registry_url: str) -> None:
    adapter = RegistryAdapter(base_url=registry_url, timeout=0.5)
    query = sample_query("$cc", family_name="Later")
    pending = call_adapter(adapter, query)
    assert not isinstance(pending, Answer)
    from dataclasses import replace

    answer = call_adapter(adapter, replace(query, reference=pending.reference), poll=True)  # type: ignore[union-attr]
    assert isinstance(answer, Answer)
    assert answer.outcome is Outcome.NO_RECORD
    adapter.close()


def test_the_provider_needs_its_url() -> None:
    with pytest.raises(ValueError, match="IPC_ADAPTER_${cc}_URL"):
        provide({})
    (adapter,) = provide({"URL": "http://127.0.0.1:9"})
    assert validate_adapter(adapter, "test") is adapter
    adapter.close()


@pytest.fixture
def registry_url() -> Iterator[str]:
    with FakeRegistry() as fake:
        yield fake.url
'''


def write_skeleton(country: str, into: Path) -> Path:
    """Write the package ``ipc-adapter-<cc>`` under ``into``; refuse to overwrite."""
    lower = country.lower()
    values = {"cc": country, "lower": lower, "name": country_name(country)}
    root = into / f"ipc-adapter-{lower}"
    if root.exists():
        raise FileExistsError(f"{root} exists already")
    files = {
        "pyproject.toml": PYPROJECT,
        f"ipc_adapter_{lower}/__init__.py": PACKAGE,
        f"ipc_adapter_{lower}/adapter.py": ADAPTER,
        "tests/__init__.py": "",
        "tests/fake_registry.py": FAKE_REGISTRY,
        "tests/test_contract.py": TESTS,
    }
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Template(text).substitute(values))
    return root
