"""The contract kit fails, in one sentence, for each way an adapter can betray the contract."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner

from country_adapters.base import (
    ADAPTER_API_VERSION,
    AdapterError,
    Answer,
    Outcome,
    Pending,
    Query,
    Record,
)
from country_adapters.testing import (
    ContractViolation,
    Scenario,
    check_idempotent_retry,
    check_scenario,
    sample_query,
)

NAMES = {
    "no_record": "Clear",
    "record": "Convicted",
    "unconfirmed": "Unknown",
    "garbage": "Garbled",
    "server_error": "Broken",
    "slow": "Sleepy",
}
LIMIT = 1.0
TODAY = datetime.now(UTC).date()


@dataclass
class MemoryRegistry:
    """The registry the adapters below talk to, kept in memory (it lies outside the service)."""

    opened: Counter[str] = field(default_factory=Counter)
    seen: set[str] = field(default_factory=set)

    def open_case(self, key: str) -> None:
        if key not in self.seen:
            self.seen.add(key)
            self.opened[key.split(":")[0]] += 1

    def cases(self, check_id: str) -> int:
        return self.opened[check_id]

    def finding(self, name: str) -> str:
        if name == "Broken":
            raise AdapterError("registry answered HTTP 500")
        if name == "Sleepy":
            time.sleep(LIMIT / 4)
            raise AdapterError("registry timed out")
        return {"Clear": "clear", "Convicted": "convicted", "Unknown": "unconfirmed"}.get(
            name, "???"
        )


@dataclass
class GoodAdapter:
    """Maps every finding as the contract says."""

    registry: MemoryRegistry
    country: str = "NZ"
    authority: str = "Test registry of New Zealand"
    api_version: int = ADAPTER_API_VERSION
    deadline: timedelta | None = None
    pollable: bool = False
    specimen: bool = True

    def case_key(self, query: Query) -> str:
        return query.check_id

    def record(self) -> Record:
        return Record("Assault", "violence", "2017-03-14", "District Court", "Fine")

    def unknown(self, finding: str) -> Answer | Pending:
        raise AdapterError(f"finding not understood: {finding}")

    def submit(self, query: Query) -> Answer | Pending:
        self.registry.open_case(self.case_key(query))
        finding = self.registry.finding(query.subject.family_name)
        now = datetime.now(UTC)
        if finding == "clear":
            return Answer(Outcome.NO_RECORD, (), now)
        if finding == "convicted":
            return Answer(Outcome.RECORD_FOUND, (self.record(),), now)
        if finding == "unconfirmed":
            return Answer(Outcome.IDENTITY_UNCONFIRMED, (), now)
        return self.unknown(finding)

    def poll(self, query: Query) -> Answer | Pending:
        return Pending()


class GuessingAdapter(GoodAdapter):
    def unknown(self, finding: str) -> Answer | Pending:
        return Answer(Outcome.NO_RECORD, (), datetime.now(UTC))


class HangingAdapter(GoodAdapter):
    def submit(self, query: Query) -> Answer | Pending:
        if query.subject.family_name == "Sleepy":
            time.sleep(3600)  # no timeout on the registry call
        return super().submit(query)


class ForgetfulAdapter(GoodAdapter):
    def case_key(self, query: Query) -> str:
        return f"{query.check_id}:{query.attempt}"  # a new case on every attempt


class LocalDateAdapter(GoodAdapter):
    def record(self) -> Record:
        return Record("Assault", "violence", "14/03/2017", "District Court", "Fine")


class WaitingAdapter(GoodAdapter):
    def submit(self, query: Query) -> Answer | Pending:
        self.registry.open_case(query.check_id)
        return Pending(reference="case-1")  # no poll_after, not pollable


def scenarios() -> Mapping[str, Scenario]:
    return {
        key: Scenario(sample_query("NZ", family_name=name, check_id=f"{key:0<32}"))
        for key, name in NAMES.items()
    }


def run_kit(adapter: GoodAdapter) -> None:
    for name, scenario in scenarios().items():
        check_scenario(adapter, name, scenario, LIMIT, TODAY)
    check_idempotent_retry(adapter, adapter.registry, scenarios()["no_record"], LIMIT)


def test_a_good_adapter_passes() -> None:
    run_kit(GoodAdapter(MemoryRegistry()))


@pytest.mark.parametrize(
    ("adapter_class", "reason"),
    [
        (
            GuessingAdapter,
            r"^the garbage scenario became the answer no_record: .* raise AdapterError",
        ),
        (
            HangingAdapter,
            r"^submit in the slow scenario did not return within 1 s: bound every call",
        ),
        (
            ForgetfulAdapter,
            r"^a query submitted twice opened 2 cases at the registry: send the check_id",
        ),
        (
            LocalDateAdapter,
            r"^record 1 of the record scenario is refused .*date '14/03/2017' must be a date written YYYY",
        ),
        (
            WaitingAdapter,
            r"^the no_record scenario returned Pending without poll_after .* nothing would ever finish",
        ),
    ],
)
def test_the_kit_fails_a_bad_adapter_in_one_sentence(
    adapter_class: type[GoodAdapter], reason: str
) -> None:
    started = time.monotonic()
    with pytest.raises(ContractViolation, match=reason) as failure:
        run_kit(adapter_class(MemoryRegistry()))
    message = str(failure.value)
    assert message.count(". ") == 0, "one sentence"
    assert message.endswith(".")
    assert time.monotonic() - started < 10 * LIMIT


def test_a_scaffolded_package_passes_its_own_tests(runner: FlaskCliRunner, tmp_path: Path) -> None:
    made = runner.invoke(args=["adapters", "new", "NZ", "--into", str(tmp_path)])
    assert made.exit_code == 0, made.output
    package = tmp_path / "ipc-adapter-nz"
    assert 'NZ = "ipc_adapter_nz:provide"' in (package / "pyproject.toml").read_text()
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=package,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert " passed" in tests.stdout
    again = runner.invoke(args=["adapters", "new", "NZ", "--into", str(tmp_path)])
    assert again.exit_code != 0
    assert "exists already" in again.output
