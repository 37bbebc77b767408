"""Coverage: the residence timeline the applicant declared, set against the answers.

A declared residence period is *covered* when that country's authority gave a
definitive answer (``no_record`` or ``record_found``). A period in a country
that did not answer by its deadline (``NA``), has no participating authority
(``NC``) or could not confirm the identity (``IU``) is *uncovered*: the
certificate prints one line per uncovered period, and the signed claims carry
``gap``, the number of distinct calendar months of the declared timeline that
fall in at least one uncovered period.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from certificate.applications.models import Application
from certificate.issuance.claims import check_outcome

#: Outcomes that settle a period: the authority said what it holds.
DEFINITIVE = frozenset({"no_record", "record_found"})


@dataclass(frozen=True)
class UncoveredPeriod:
    """One declared residence period without a definitive answer.

    ``end`` is ``None`` for "until now"; ``outcome`` is the country's outcome
    (``no_response``, ``not_covered`` or ``identity_unconfirmed``).
    """

    country: str
    start: str  # YYYY-MM
    end: str | None
    outcome: str


def _month_index(value: str) -> int:
    year, month = value.split("-", 1)
    return int(year) * 12 + int(month) - 1


def coverage_gaps(application: Application, today: date) -> tuple[UncoveredPeriod, ...]:
    """The declared residence periods, in filing order, whose country gave no definitive answer."""
    outcomes = {check.country: check_outcome(check) for check in application.checks}
    return tuple(
        UncoveredPeriod(r.country, r.start, r.end, outcomes.get(r.country, "not_covered"))
        for r in application.residences
        if outcomes.get(r.country, "not_covered") not in DEFINITIVE
    )


def gap_months(periods: Iterable[UncoveredPeriod], today: date | None = None) -> int:
    """How many distinct calendar months the uncovered periods span (overlaps counted once).

    An open period ("until now") runs to ``today``'s month; without ``today``
    it counts its first month only.
    """
    months: set[int] = set()
    for period in periods:
        start = _month_index(period.start)
        if period.end is not None:
            end = _month_index(period.end)
        elif today is not None:
            end = today.year * 12 + today.month - 1
        else:
            end = start
        months.update(range(start, max(start, end) + 1))
    return len(months)
