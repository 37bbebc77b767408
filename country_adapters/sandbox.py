"""The sandbox adapter: a pretend agency for demos and tests.

It serves the countries listed in ``IPC_SANDBOX_COUNTRIES`` and answers by the
applicant's family name, or its Latin form (upper-cased):

* ``RECORD...``  → ``record_found`` with one record
* ``NOMATCH...`` → ``identity_unconfirmed``
* ``SILENT...``  → never answers (the check ends ``no_response`` at its deadline)
* ``FLAKY...``   → fails twice, then answers ``no_record``
* anything else  → ``no_record``

Every certificate it contributes to is a specimen.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from country_adapters.base import (
    ADAPTER_API_VERSION,
    AdapterError,
    Answer,
    CountryAdapter,
    Outcome,
    Pending,
    Query,
    Record,
)
from country_adapters.countries import country_name, parse_countries

FLAKY_FAILURES = 2


@dataclass
class SandboxAdapter:
    """A sandbox agency for one country."""

    country: str
    latency_seconds: float = 0.0
    api_version: int = ADAPTER_API_VERSION
    deadline: timedelta | None = None
    pollable: bool = False
    specimen: bool = True

    @property
    def authority(self) -> str:
        """The name printed on the certificate."""
        return f"Sandbox record agency of {country_name(self.country)}"

    def submit(self, query: Query) -> Answer | Pending:
        """Answer after the configured latency, by the rules in the module docstring."""
        if self.latency_seconds:
            time.sleep(self.latency_seconds)
        subject = query.subject
        # a name in another script is matched by its Latin form (RECORD… in Latin letters)
        names = (subject.family_name.upper(), (subject.latin_family_name or "").upper())

        def named(prefix: str) -> bool:
            return any(name.startswith(prefix) for name in names)

        reference = f"SBX-{self.country}-{query.check_id[:8]}"
        if named("SILENT"):
            return Pending(reference=reference)
        if named("FLAKY") and query.attempt <= FLAKY_FAILURES:
            raise AdapterError(f"sandbox {self.country}: simulated outage", retryable=True)
        now = datetime.now(UTC)
        if named("RECORD"):
            record = Record(
                offence="Sexual assault of a child (sandbox record)",
                category="child_sexual_abuse",
                date="2011-03-14",
                court=f"Sandbox High Court, {country_name(self.country)}",
                sentence="4 years imprisonment",
            )
            return Answer(Outcome.RECORD_FOUND, (record,), now, reference)
        if named("NOMATCH"):
            return Answer(Outcome.IDENTITY_UNCONFIRMED, (), now, reference)
        return Answer(Outcome.NO_RECORD, (), now, reference)

    def poll(self, query: Query) -> Answer | Pending:
        """The sandbox is never polled: silent queries stay pending."""
        return Pending()


def provide(settings: Mapping[str, Any]) -> Iterable[CountryAdapter]:
    """Entry point: one sandbox adapter per country in ``IPC_SANDBOX_COUNTRIES``.

    The sandbox validates its own settings (``COUNTRIES`` and ``LATENCY_MS``
    of its namespace) and refuses to start, naming the variable, on a bad one.
    """
    try:
        countries = parse_countries(settings.get("COUNTRIES"))
    except ValueError as exc:
        raise ValueError(f"IPC_SANDBOX_COUNTRIES: {exc}") from exc
    raw = settings.get("LATENCY_MS") or 0
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw < 0:
        raise ValueError(f"IPC_SANDBOX_LATENCY_MS must be a number ≥ 0, got {raw!r}")
    return [SandboxAdapter(code, float(raw) / 1000.0) for code in countries]
