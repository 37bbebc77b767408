"""The rules every reported conviction obeys, wherever it comes from.

An agency reports a record through the agency API, an officer types it in the
portal, or an adapter returns it: all three pass through :func:`record_problems`
before anything is stored, so a certificate never carries a date such as
``2010-13-45`` or a category the service cannot print in words.

* ``category`` is one code of :data:`CATEGORIES` (the documented list, see
  docs/agencies.md); the certificate prints it in words in its language.
* ``date`` is the conviction's date at the precision the agency knows:
  ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``, a real calendar date, not in the
  future.

Adapter packages may call :func:`record_problems` on their own records before
returning them; the service calls it on every answer anyway, and an answer
that breaks a rule makes the check ``failed`` (logged, never printed).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

CATEGORIES: tuple[str, ...] = (
    "child_sexual_abuse",
    "child_abuse",
    "sexual_other",
    "violence",
    "drugs",
    "fraud",
    "property",
    "traffic",
    "other",
)
"""Record category codes, the most serious for the service's purpose first:

``child_sexual_abuse``  sexual offences against a child, including abuse images
``child_abuse``         other harm to a child: violence, neglect, abduction
``sexual_other``        sexual offences against adults
``violence``            violence against persons (homicide, assault, robbery)
``drugs``               drug offences
``fraud``               fraud, corruption and other economic offences
``property``            theft, burglary, criminal damage
``traffic``             road traffic offences
``other``               anything else
"""

_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
DATE_FORMATS = "YYYY, YYYY-MM or YYYY-MM-DD"


def category_problem(value: str) -> str | None:
    """What is wrong with a category code, or None when it is one of :data:`CATEGORIES`."""
    if value in CATEGORIES:
        return None
    return "must be one of the category codes: " + ", ".join(CATEGORIES)


def date_problem(value: str, today: date | None = None) -> str | None:
    """What is wrong with a record date, or None when it is a real date, not in the future.

    ``today`` defaults to the current UTC date.
    """
    match = _DATE.match(value)
    if match is None:
        return f"must be a date written {DATE_FORMATS}"
    year, month, day = (int(part) if part else None for part in match.groups())
    assert year is not None  # noqa: S101 - the pattern requires it
    try:
        first = date(year, 1 if month is None else month, 1 if day is None else day)
    except ValueError:
        return "is not a real calendar date"
    today = today or datetime.now(UTC).date()
    if first > today:
        return "lies in the future"
    return None


def record_problems(record: object, today: date | None = None) -> dict[str, str]:
    """``{"date": "...", "category": "..."}`` for a record's broken rules (empty: valid).

    ``record`` is anything with ``category`` and ``date`` attributes, such as
    :class:`country_adapters.base.Record`.
    """
    problems: dict[str, str] = {}
    category = getattr(record, "category", None)
    problem = category_problem(category) if isinstance(category, str) else "is required"
    if problem:
        problems["category"] = problem
    when = getattr(record, "date", None)
    problem = date_problem(when, today) if isinstance(when, str) else "is required"
    if problem:
        problems["date"] = problem
    return problems
