"""The adapter Protocol (version 1): the spec for anyone writing an adapter.

An adapter turns a :class:`Query` about one person into one of three results:

* an :class:`Answer`: the agency's final word (outcome, records, when, and the
  agency's own reference);
* :class:`Pending`: the agency will answer later, through the agency API, the
  officer portal, or when the adapter is polled;
* an :class:`AdapterError` raised, saying whether trying again could help.

Adapters never touch the database or the web layer; the checks service stores
what they return. They must be safe to call from several threads at once and
must bound every network call with a timeout. ``submit`` may be called again
for the same query after a crash (the ``check_id`` stays the same), so an
adapter that forwards queries should let the agency de-duplicate on it.

Adapters are published under the entry-point group ``ipc.country_adapters``.
The entry point's name is the ISO 3166-1 alpha-2 code the adapter serves
(``KE``), or a lower-case provider name (``sandbox``) for a provider that
serves a configured set of countries. The object it points to is a *provider*:
a callable that receives its own settings only (a read-only mapping of the
``IPC_ADAPTER_<NAME>_*`` variables, with that prefix removed, where NAME is
the entry point's name in upper case) and returns an iterable of adapters,
empty when it has nothing to serve. An adapter may also define ``close()``:
the service calls it at shutdown so the adapter can close its clients.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol, runtime_checkable

ADAPTER_API_VERSION = 1
"""Bumped when the Protocol changes incompatibly; adapters declare the one they implement."""


class Outcome(enum.StrEnum):
    """What an agency may answer about a person."""

    NO_RECORD = "no_record"
    RECORD_FOUND = "record_found"
    IDENTITY_UNCONFIRMED = "identity_unconfirmed"


@dataclass(frozen=True)
class ResidencePeriod:
    """A period the person lived in the adapter's country, months as ``YYYY-MM``.

    ``end`` is ``None`` while the person still lives there.
    """

    start: str
    end: str | None


@dataclass(frozen=True)
class Subject:
    """The person the agency is asked about, exactly as the applicant filed it.

    ``latin_family_name`` and ``latin_given_names`` are the name as the identity
    document's machine-readable zone writes it (given by the applicant, or derived
    from a name in another script); both ``None`` when the name was filed in Latin
    script without one. Compare either form with the agency's records.
    """

    family_name: str
    given_names: str
    other_names: tuple[str, ...]
    date_of_birth: date
    place_of_birth_city: str
    place_of_birth_country: str
    nationalities: tuple[str, ...]
    document_type: str
    document_number: str
    document_issuing_country: str
    document_expires: date
    latin_family_name: str | None = None
    latin_given_names: str | None = None


@dataclass(frozen=True)
class Query:
    """One question to one country: "does this person have a record with you?".

    ``check_id`` identifies the query for its whole life and is stable across
    retries; ``attempt`` counts calls to ``submit`` starting at 1.
    ``reference`` is the adapter's own reference from its last :class:`Pending`
    (or ``None`` before one), given back on every ``poll`` so that a stateless
    adapter can ask a registry keyed by it.
    ``residences`` holds only the periods spent in ``country`` (empty when the
    country is asked as a nationality only).
    """

    check_id: str
    country: str
    subject: Subject
    residences: tuple[ResidencePeriod, ...]
    requested_at: datetime
    deadline: datetime
    attempt: int = 1
    reference: str | None = None


@dataclass(frozen=True)
class Record:
    """One conviction as the agency reports it."""

    offence: str
    category: str
    date: str
    court: str
    sentence: str


@dataclass(frozen=True)
class Answer:
    """The agency's final answer. ``records`` is non-empty exactly for ``record_found``."""

    outcome: Outcome
    records: tuple[Record, ...] = ()
    answered_at: datetime | None = None
    reference: str | None = None

    def __post_init__(self) -> None:
        if (self.outcome is Outcome.RECORD_FOUND) != bool(self.records):
            raise ValueError("records must be given for record_found, and only for it")


@dataclass(frozen=True)
class Pending:
    """The agency has the query and will answer later.

    ``poll_after`` (seconds) asks to be polled again; ``None`` means the answer
    arrives by another route (the agency API or the officer portal).
    """

    reference: str | None = None
    poll_after: float | None = None


class AdapterError(Exception):
    """The agency could not be asked or its reply was unusable.

    ``retryable`` says whether the same query might succeed later (a timeout,
    an HTTP 503) or not (the agency refused the query as malformed).
    ``retry_after`` (seconds) is for an adapter that did not ask the agency at
    all, because it knows the agency is down (an open circuit breaker): the
    service tries again after that long, and the call does not count as an
    attempt.
    """

    def __init__(
        self, message: str, *, retryable: bool = True, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


@runtime_checkable
class CountryAdapter(Protocol):
    """What every adapter provides. Attributes are read once at start-up.

    Plain class or instance attributes satisfy the read-only members below.
    """

    @property
    def api_version(self) -> int:
        """The Protocol version implemented: :data:`ADAPTER_API_VERSION`."""
        ...

    @property
    def country(self) -> str:
        """ISO 3166-1 alpha-2 code of the country served, upper case."""
        ...

    @property
    def authority(self) -> str:
        """The agency's name, printed on the certificate."""
        ...

    @property
    def deadline(self) -> timedelta | None:
        """How long the agency may take; ``None`` uses the service's default."""
        ...

    @property
    def pollable(self) -> bool:
        """Whether :meth:`poll` can fetch an answer after a :class:`Pending`."""
        ...

    @property
    def specimen(self) -> bool:
        """True for test adapters: certificates they contribute to are specimens."""
        ...

    def submit(self, query: Query) -> Answer | Pending:
        """Ask the agency; return its answer, or Pending, or raise AdapterError."""
        ...

    def poll(self, query: Query) -> Answer | Pending:
        """Ask again about a query that is pending; only called when ``pollable``."""
        ...


class AdapterProvider(Protocol):
    """What an entry point names: settings in, adapters out."""

    def __call__(self, settings: Mapping[str, Any]) -> Iterable[CountryAdapter]: ...
