"""The sandbox adapter follows the contract's name rules, and the adapter contract."""

from __future__ import annotations

import pytest

from country_adapters.base import AdapterError, Answer, Outcome, Pending
from country_adapters.sandbox import SandboxAdapter, parse_countries, provide
from country_adapters.testing import AdapterContract, sample_query


class TestSandboxContract(AdapterContract):
    @pytest.fixture
    def adapter(self) -> SandboxAdapter:
        return SandboxAdapter("KE")


@pytest.mark.parametrize(
    ("name", "outcome"),
    [
        ("Okafor", Outcome.NO_RECORD),
        ("RECORD-Smith", Outcome.RECORD_FOUND),
        ("recordkeeper", Outcome.RECORD_FOUND),
        ("NOMATCH Jones", Outcome.IDENTITY_UNCONFIRMED),
    ],
)
def test_outcome_follows_the_family_name(name: str, outcome: Outcome) -> None:
    answer = SandboxAdapter("TH").submit(sample_query("TH", family_name=name))
    assert isinstance(answer, Answer)
    assert answer.outcome is outcome
    assert len(answer.records) == (1 if outcome is Outcome.RECORD_FOUND else 0)


def test_silent_never_answers() -> None:
    adapter = SandboxAdapter("KE")
    assert isinstance(adapter.submit(sample_query("KE", family_name="Silentio")), Pending)
    assert isinstance(adapter.poll(sample_query("KE", family_name="Silentio")), Pending)


def test_flaky_fails_twice_then_answers() -> None:
    adapter = SandboxAdapter("KE")
    for attempt in (1, 2):
        with pytest.raises(AdapterError) as info:
            adapter.submit(sample_query("KE", family_name="Flaky", attempt=attempt))
        assert info.value.retryable
    answer = adapter.submit(sample_query("KE", family_name="Flaky", attempt=3))
    assert isinstance(answer, Answer)
    assert answer.outcome is Outcome.NO_RECORD


def test_countries_are_parsed_and_checked() -> None:
    assert parse_countries(" ke,TH , ke") == ["KE", "TH"]
    assert parse_countries(None) == []
    with pytest.raises(ValueError, match="XX"):
        parse_countries("KE,XX")


def test_provider_serves_the_configured_countries() -> None:
    adapters = list(provide({"COUNTRIES": "KE,TH", "LATENCY_MS": 250}))
    assert [a.country for a in adapters] == ["KE", "TH"]
    assert all(a.latency_seconds == 0.25 and a.specimen for a in adapters)
    assert list(provide({})) == []
