"""The contract kit: tests an adapter package runs against itself.

Every call to the adapter runs under a time limit (:attr:`AdapterContract.time_limit`
seconds): an adapter that hangs fails its test, it does not hang the suite.
Each failure is a :class:`ContractViolation` whose message is one sentence
saying what is wrong and what to do.

Two layers. :class:`AdapterContract` checks what every adapter promises (the
declared attributes, a well-formed result, a safe retry, the registry's
acceptance). :class:`RegistryContract` adds behaviour against the author's
fake registry, through scenarios the author arranges::

    import pytest
    from country_adapters.testing import RegistryContract, Scenario, sample_query

    class TestMyAdapter(RegistryContract):
        @pytest.fixture
        def registry(self):            # the fake registry; must offer cases(check_id) -> int
            with FakeRegistry() as fake:
                yield fake

        @pytest.fixture
        def adapter(self, registry):
            return MyAdapter(endpoint=registry.url, timeout=1.0)

        @pytest.fixture
        def scenarios(self, registry):
            return {
                "no_record": Scenario(sample_query("NZ", family_name="Clear")),
                "record": Scenario(sample_query("NZ", family_name="Convicted")),
                "unconfirmed": Scenario(sample_query("NZ", family_name="Unknown")),
                "garbage": Scenario(sample_query("NZ", family_name="Garbled")),
                "server_error": Scenario(sample_query("NZ", family_name="Broken")),
                "slow": Scenario(sample_query("NZ", family_name="Sleepy")),
            }

What the kit expects of each scenario:

* ``no_record``, ``record``, ``unconfirmed``: that answer (directly, or after
  :class:`Pending` and ``poll`` with the reference it gave); a record's
  fields pass :mod:`country_adapters.records`;
* ``garbage`` (the registry answers something unreadable or unknown):
  :class:`AdapterError`, never an answer, above all never ``no_record``;
* ``server_error`` (the registry answers HTTP 500): a retryable
  :class:`AdapterError`;
* ``slow`` (the registry does not answer in time): a retryable
  :class:`AdapterError` within the time limit.

Also: a :class:`Pending` must say when to poll (``poll_after``) on a
``pollable`` adapter, or nothing would ever finish the query; and a query
submitted twice (a retry after a crash, same ``check_id``) opens one case at
the registry, not two (``registry.cases(check_id)``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol, TypeVar

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
from country_adapters.records import record_problems
from country_adapters.registry import AdapterLoadError, validate_adapter

T = TypeVar("T")
Result = Answer | Pending | AdapterError

DEFAULT_TIME_LIMIT = 5.0
POLL_ROUNDS = 5
SCENARIOS = ("no_record", "record", "unconfirmed", "garbage", "server_error", "slow")
_ANSWERS = {
    "no_record": Outcome.NO_RECORD,
    "record": Outcome.RECORD_FOUND,
    "unconfirmed": Outcome.IDENTITY_UNCONFIRMED,
}


class ContractViolation(AssertionError):
    """The adapter breaks the contract; the message says how, in one sentence."""


class FakeRegistry(Protocol):
    """What the kit needs from the author's fake registry."""

    def cases(self, check_id: str) -> int:
        """How many cases the registry opened for ``check_id``."""
        ...


@dataclass(frozen=True)
class Scenario:
    """One situation at the fake registry: the query that provokes it.

    ``arrange``, when given, is called before the query is sent (to set the
    fake registry up for this scenario).
    """

    query: Query
    arrange: Callable[[], object] | None = None


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


def within(limit: float, what: str, call: Callable[[], T]) -> T:
    """Run ``call`` in a thread of its own; ContractViolation if it outlasts ``limit`` s."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # handed back to the caller below
            outcome["error"] = exc

    worker = threading.Thread(target=run, name=f"contract: {what}", daemon=True)
    worker.start()
    worker.join(limit)
    if worker.is_alive():
        raise ContractViolation(
            f"{what} did not return within {limit:g} s: bound every call to the registry "
            "with a timeout and raise AdapterError when it expires."
        )
    if "error" in outcome:
        raise outcome["error"]
    value: T = outcome["value"]
    return value


def call_adapter(
    adapter: CountryAdapter,
    query: Query,
    *,
    poll: bool = False,
    limit: float = DEFAULT_TIME_LIMIT,
    what: str = "",
) -> Result:
    """``submit`` (or ``poll``) under a time limit; an AdapterError is returned, not raised.

    Any other exception is a ContractViolation: adapters report failures as
    AdapterError only.
    """
    method = adapter.poll if poll else adapter.submit
    label = what or f"{'poll' if poll else 'submit'} for check {query.check_id}"

    def call() -> Result:
        try:
            return method(query)
        except AdapterError as exc:
            return exc

    try:
        result = within(limit, label, call)
    except ContractViolation:
        raise
    except Exception as exc:
        raise ContractViolation(
            f"{label} raised {type(exc).__name__} ({exc}): report every failure as "
            "AdapterError, saying whether a retry could help."
        ) from exc
    if not isinstance(result, Answer | Pending | AdapterError):
        raise ContractViolation(
            f"{label} returned {type(result).__name__}: return Answer or Pending, "
            "or raise AdapterError."
        )
    return result


def check_pending(adapter: CountryAdapter, pending: Pending, scenario: str) -> None:
    """A Pending must have a way to finish: a pollable adapter and a ``poll_after``."""
    if pending.poll_after is None or not adapter.pollable:
        raise ContractViolation(
            f"the {scenario} scenario returned Pending without poll_after on a pollable "
            "adapter, so nothing would ever finish the query: set pollable = True and "
            "Pending(poll_after=seconds), or answer at once."
        )
    if pending.poll_after < 0:
        raise ContractViolation(
            f"the {scenario} scenario returned Pending(poll_after={pending.poll_after}): "
            "poll_after must be zero or more seconds."
        )


def check_answer(answer: Answer, scenario: str, today: date) -> None:
    """An answer is well formed and its records pass the service's validation."""
    if (answer.outcome is Outcome.RECORD_FOUND) != bool(answer.records):
        raise ContractViolation(
            f"the {scenario} scenario answered {answer.outcome.value} with "
            f"{len(answer.records)} record(s): records go with record_found, and only with it."
        )
    if answer.answered_at is not None and answer.answered_at.tzinfo is None:
        raise ContractViolation(
            f"the {scenario} scenario's answered_at has no time zone: give an aware datetime."
        )
    for number, record in enumerate(answer.records, start=1):
        problems = record_problems(record, today)
        if problems:
            broken = "; ".join(
                f"{name} {getattr(record, name, None)!r} {problem}"
                for name, problem in problems.items()
            )
            raise ContractViolation(
                f"record {number} of the {scenario} scenario is refused by the service: {broken}."
            )


def final_result(
    adapter: CountryAdapter, scenario: str, query: Query, limit: float
) -> Answer | AdapterError:
    """Submit, then poll with the adapter's reference while it says Pending."""
    result = call_adapter(adapter, query, limit=limit, what=f"submit in the {scenario} scenario")
    for _ in range(POLL_ROUNDS):
        if not isinstance(result, Pending):
            return result
        check_pending(adapter, result, scenario)
        query = replace(query, reference=result.reference)
        result = call_adapter(
            adapter, query, poll=True, limit=limit, what=f"poll in the {scenario} scenario"
        )
    if isinstance(result, Pending):
        raise ContractViolation(
            f"the {scenario} scenario was still Pending after {POLL_ROUNDS} polls: "
            "make the fake registry answer so the mapping can be checked."
        )
    return result


def check_scenario(
    adapter: CountryAdapter, name: str, scenario: Scenario, limit: float, today: date
) -> None:
    """The adapter maps the registry's behaviour in scenario ``name`` as the contract says."""
    if scenario.arrange is not None:
        scenario.arrange()
    result = final_result(adapter, name, scenario.query, limit)
    if name in _ANSWERS:
        expected = _ANSWERS[name]
        if isinstance(result, AdapterError):
            raise ContractViolation(
                f"the {name} scenario raised AdapterError ({result}) instead of "
                f"answering {expected.value}."
            )
        if result.outcome is not expected:
            raise ContractViolation(
                f"the {name} scenario was answered {result.outcome.value}, not {expected.value}."
            )
        check_answer(result, name, today)
        return
    if isinstance(result, Answer):
        raise ContractViolation(
            f"the {name} scenario became the answer {result.outcome.value}: a registry "
            "reply the adapter cannot read, an error or a timeout must raise AdapterError, "
            "never an answer (a person's record may be hidden behind it)."
        )
    if name in ("server_error", "slow") and not result.retryable:
        raise ContractViolation(
            f"the {name} scenario raised a non-retryable AdapterError: a registry that "
            "fails or is slow may answer later, so mark the error retryable."
        )


def check_idempotent_retry(
    adapter: CountryAdapter, registry: FakeRegistry, scenario: Scenario, limit: float
) -> None:
    """Submitting the same query twice (attempts 1 and 2) opens one case at the registry."""
    if scenario.arrange is not None:
        scenario.arrange()
    query = replace(scenario.query, check_id="retry" + scenario.query.check_id[5:], attempt=1)
    call_adapter(adapter, query, limit=limit, what="the first submit of a retried query")
    call_adapter(
        adapter, replace(query, attempt=2), limit=limit, what="the retry of the same query"
    )
    opened = registry.cases(query.check_id)
    if opened != 1:
        raise ContractViolation(
            f"a query submitted twice opened {opened} cases at the registry: send the "
            "check_id so the registry can de-duplicate a retry."
        )


class AdapterContract:
    """Mix into a test class that provides an ``adapter`` fixture."""

    #: Seconds any one call to the adapter may take.
    time_limit: float = DEFAULT_TIME_LIMIT

    @pytest.fixture
    def answering_query(self, adapter: CountryAdapter) -> Query:
        """Override to give a query your adapter answers (default: a plain name)."""
        return sample_query(adapter.country)

    def test_declares_the_protocol(self, adapter: Any) -> None:
        try:
            validate_adapter(adapter, "this adapter")
        except AdapterLoadError as exc:
            raise ContractViolation(f"{exc}.") from exc
        if not (isinstance(adapter.authority, str) and adapter.authority.strip()):
            raise ContractViolation("authority must name the agency, as printed on certificates.")
        if adapter.deadline is not None and not (
            isinstance(adapter.deadline, timedelta) and adapter.deadline > timedelta(0)
        ):
            raise ContractViolation("deadline must be None or a positive timedelta.")
        if not (isinstance(adapter.pollable, bool) and isinstance(adapter.specimen, bool)):
            raise ContractViolation("pollable and specimen must be True or False.")
        assert adapter.api_version == ADAPTER_API_VERSION
        assert is_country_code(adapter.country)

    def test_submit_returns_a_result(self, adapter: CountryAdapter, answering_query: Query) -> None:
        result = call_adapter(adapter, answering_query, limit=self.time_limit)
        if isinstance(result, Answer):
            check_answer(result, "answering", datetime.now(UTC).date())

    def test_a_retry_of_the_same_query_gives_the_same_answer(
        self, adapter: CountryAdapter, answering_query: Query
    ) -> None:
        first = call_adapter(adapter, answering_query, limit=self.time_limit)
        second = call_adapter(adapter, replace(answering_query, attempt=2), limit=self.time_limit)
        both = isinstance(first, Answer) and isinstance(second, Answer)
        if both and (first.outcome, first.records) != (second.outcome, second.records):  # type: ignore[union-attr]
            raise ContractViolation(
                "the same query answered twice gave two different answers: "
                "a retry must not change the outcome or the records."
            )


class RegistryContract(AdapterContract):
    """Behaviour against the author's fake registry; needs ``registry`` and ``scenarios``."""

    @pytest.fixture
    def scenarios(self) -> Mapping[str, Scenario]:
        """Override: one :class:`Scenario` per name in :data:`SCENARIOS`."""
        raise ContractViolation(
            f"define a scenarios fixture giving a Scenario for each of {', '.join(SCENARIOS)}."
        )

    @pytest.fixture
    def answering_query(self, scenarios: Mapping[str, Scenario]) -> Query:
        """The no-record scenario's query."""
        return scenarios["no_record"].query

    @pytest.mark.parametrize("name", SCENARIOS)
    def test_maps_the_registry_scenario(
        self, adapter: CountryAdapter, scenarios: Mapping[str, Scenario], name: str
    ) -> None:
        if name not in scenarios:
            raise ContractViolation(f"the scenarios fixture gives no {name} scenario.")
        check_scenario(adapter, name, scenarios[name], self.time_limit, datetime.now(UTC).date())

    def test_a_retried_query_is_one_case_at_the_registry(
        self, adapter: CountryAdapter, registry: FakeRegistry, scenarios: Mapping[str, Scenario]
    ) -> None:
        check_idempotent_retry(adapter, registry, scenarios["no_record"], self.time_limit)
