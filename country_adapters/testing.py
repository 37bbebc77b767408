"""Contract tests an adapter package runs against itself.

In the adapter package's own test suite::

    import pytest
    from country_adapters.testing import AdapterContract, sample_query

    class TestMyAdapter(AdapterContract):
        @pytest.fixture
        def adapter(self):
            return MyAdapter(endpoint="http://127.0.0.1:8099")

        # Optional: a query the adapter answers with a final Answer, if it ever does.
        @pytest.fixture
        def answering_query(self):
            return sample_query("KE", family_name="Okafor")

The tests check the Protocol's promises: the declared attributes, that
``submit`` returns an :class:`~country_adapters.base.Answer` or
:class:`~country_adapters.base.Pending` or raises
:class:`~country_adapters.base.AdapterError`, that answers are well formed, that a
retry of the same query is safe, and that the registry accepts the adapter.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from country_adapters.base import (
    ADAPTER_API_VERSION,
    AdapterError,
    Answer,
    CountryAdapter,
    Outcome,
    Pending,
    Query,
    ResidencePeriod,
    Subject,
)
from country_adapters.countries import is_country_code
from country_adapters.registry import validate_adapter


def sample_query(
    country: str,
    *,
    family_name: str = "Okafor",
    attempt: int = 1,
    check_id: str = "0123456789abcdef0123456789abcdef",
) -> Query:
    """A realistic query about a person who lived in ``country``."""
    now = datetime.now(UTC)
    subject = Subject(
        family_name=family_name,
        given_names="Ada Chioma",
        other_names=("Ada Mensah",),
        date_of_birth=date(1990, 4, 17),
        place_of_birth_city="Lagos",
        place_of_birth_country="NG",
        nationalities=("NG",),
        document_type="passport",
        document_number="A1234567",
        document_issuing_country="NG",
        document_expires=date(now.year + 5, 1, 1),
    )
    return Query(
        check_id=check_id,
        country=country,
        subject=subject,
        residences=(ResidencePeriod("2012-09", "2016-06"),),
        requested_at=now,
        deadline=now + timedelta(days=14),
        attempt=attempt,
    )


def call_adapter(adapter: CountryAdapter, query: Query) -> Answer | Pending | AdapterError:
    """Submit a query; an AdapterError is returned rather than raised."""
    try:
        return adapter.submit(query)
    except AdapterError as exc:
        return exc


class AdapterContract:
    """Mix into a test class that provides an ``adapter`` fixture."""

    @pytest.fixture
    def answering_query(self, adapter: CountryAdapter) -> Query:
        """Override to give a query your adapter answers (default: a plain name)."""
        return sample_query(adapter.country)

    def test_declares_the_protocol(self, adapter: Any) -> None:
        assert isinstance(adapter, CountryAdapter)
        assert adapter.api_version == ADAPTER_API_VERSION
        assert is_country_code(adapter.country)
        assert isinstance(adapter.authority, str)
        assert adapter.authority.strip()
        assert adapter.deadline is None or (
            isinstance(adapter.deadline, timedelta) and adapter.deadline > timedelta(0)
        )
        assert isinstance(adapter.pollable, bool)
        assert isinstance(adapter.specimen, bool)

    def test_the_registry_accepts_it(self, adapter: Any) -> None:
        assert validate_adapter(adapter, "contract test") is adapter

    def test_submit_returns_a_result(self, adapter: CountryAdapter, answering_query: Query) -> None:
        result = call_adapter(adapter, answering_query)
        assert isinstance(result, Answer | Pending | AdapterError)
        if isinstance(result, Answer):
            assert isinstance(result.outcome, Outcome)
            assert (result.outcome is Outcome.RECORD_FOUND) == bool(result.records)
            if result.answered_at is not None:
                assert result.answered_at.tzinfo is not None, "answered_at must be aware"
        if isinstance(result, Pending) and result.poll_after is not None:
            assert adapter.pollable, "Pending(poll_after=...) needs pollable = True"
            assert result.poll_after >= 0

    def test_a_retry_of_the_same_query_is_safe(
        self, adapter: CountryAdapter, answering_query: Query
    ) -> None:
        first = call_adapter(adapter, answering_query)
        second = call_adapter(adapter, answering_query)
        if isinstance(first, Answer) and isinstance(second, Answer):
            assert first.outcome == second.outcome
            assert first.records == second.records

    def test_poll_is_safe_when_pollable(
        self, adapter: CountryAdapter, answering_query: Query
    ) -> None:
        if not adapter.pollable:
            pytest.skip("adapter is not pollable")
        try:
            result = adapter.poll(answering_query)
        except AdapterError:
            return
        assert isinstance(result, Answer | Pending)
