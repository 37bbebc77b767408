"""What a certificate says, in one line: the summary before any detail.

An employer must not read "genuine" as "clean". Every place that shows a
certificate (the verify API, /v, the offline verifier, the top of the PDF)
states two things apart: whether the *document* is genuine and in force, and
what its countries answered. This module gives the second: the contract's
``summary`` counts, a one-sentence summary in each certificate language, and
the *content* verdict that decides colours (a record found is never green).

Outcomes are those printed per country (see :mod:`certificate.issuance.claims`):
``no_record``, ``record_found``, ``identity_unconfirmed``, ``no_response``,
``failed`` and ``not_covered``. ``unconfirmed`` in the summary counts the
identity unconfirmed, the unanswered and the failed together.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from certificate.i18n import N_, codes, translations
from certificate.issuance.claims import decode_outcomes

UNCONFIRMED = frozenset({"identity_unconfirmed", "no_response", "failed"})

RECORD_FOUND = "record_found"
NOT_CONFIRMED = "not_confirmed"
NO_RECORD = "no_record"


def summary_counts(outcomes: Iterable[str]) -> dict[str, int]:
    """``{"countries", "no_record", "record_found", "unconfirmed", "not_covered"}``."""
    counted = Counter(outcomes)
    return {
        "countries": sum(counted.values()),
        "no_record": counted["no_record"],
        "record_found": counted["record_found"],
        "unconfirmed": sum(counted[o] for o in UNCONFIRMED),
        "not_covered": counted["not_covered"],
    }


def content_verdict(outcomes: Iterable[str]) -> str:
    """``record_found`` when any country found a record; ``no_record`` only when every
    country confirmed it has none; ``not_confirmed`` otherwise."""
    counted = Counter(outcomes)
    if counted["record_found"]:
        return RECORD_FOUND
    if counted and counted["no_record"] == sum(counted.values()):
        return NO_RECORD
    return NOT_CONFIRMED


# The English words are the catalogue's source (certificate/i18n/translations).
# Each count picks its own phrase (one or several), so no language needs
# plural rules here; Arabic avoids number agreement altogether ("label: n").
_FOUND_ONLY = N_("Record found in the one country checked")
_FOUND_ONE = N_("Record found in 1 of {n} countries")
_FOUND_MANY = N_("Records found in {rf} of {n} countries")
_CLEAR_ONLY = N_("No record in the one country checked")
_CLEAR_ALL = N_("No record in any of the {n} countries checked")
_UNCONFIRMED_ONLY = N_("The one country checked did not confirm that it holds no record")
_PARTIAL = N_("No record confirmed in {nr} of {n} countries; the others did not confirm")
_ALSO_CLEAR = N_("no record in {nr}")
_DETAILS = (
    (
        "identity_unconfirmed",
        N_("{k} country could not confirm the identity"),
        N_("{k} countries could not confirm the identity"),
    ),
    (
        "no_response",
        N_("{k} country did not answer by the deadline"),
        N_("{k} countries did not answer by the deadline"),
    ),
    ("failed", N_("{k} check failed"), N_("{k} checks failed")),
    ("not_covered", N_("{k} country not covered"), N_("{k} countries not covered")),
)
_SEPARATOR = N_("; ")
_FULL_STOP = N_(".")


def _lead(counted: Counter[str], n: int) -> str:
    rf, nr = counted["record_found"], counted["no_record"]
    if rf:
        return _FOUND_ONLY if n == 1 else _FOUND_ONE if rf == 1 else _FOUND_MANY
    if nr == n:
        return _CLEAR_ONLY if n == 1 else _CLEAR_ALL
    return _UNCONFIRMED_ONLY if n == 1 else _PARTIAL


def summary_sentence(outcomes: Iterable[str], language: str) -> str:
    """One sentence, e.g. "Records found in 2 of 4 countries; 1 country could not
    confirm the identity; 1 country not covered." in ``language``.

    Raises:
        ValueError: for a language the service does not speak.
    """
    return _sentence(frozenset(Counter(outcomes).items()), language)


@lru_cache(maxsize=1024)
def _sentence(counts: frozenset[tuple[str, int]], language: str) -> str:
    """The sentence for outcome counts, said once per set of counts and language: every
    verification answer says one, and most certificates share a handful of them."""
    if language not in codes():
        raise ValueError(f"no summary in language {language!r}")
    counted = Counter(dict(counts))
    n = sum(counted.values())
    rf, nr = counted["record_found"], counted["no_record"]
    catalogue = translations(language)

    def say(message: str, **values: int) -> str:
        return catalogue.gettext(message).format(**values)

    parts = [say(_lead(counted, n), n=n, rf=rf, nr=nr)]
    if rf and nr:
        parts.append(say(_ALSO_CLEAR, nr=nr))
    for outcome, one, several in _DETAILS:
        count = counted[outcome]
        if count:
            parts.append(say(one if count == 1 else several, k=count))
    return say(_SEPARATOR).join(parts) + say(_FULL_STOP)


def summary_of_claims(claims: Mapping[str, Any] | None) -> dict[str, int] | None:
    """The contract's ``summary`` for a signed claim set, or None without one."""
    outcomes = claim_outcomes(claims)
    return None if outcomes is None else summary_counts(outcomes.values())


def claim_outcomes(claims: Mapping[str, Any] | None) -> dict[str, str] | None:
    """Country → outcome from the ``c`` claim (either claim set), or None when there is no
    readable one."""
    if not claims or not isinstance(claims.get("c"), dict | str):
        return None
    try:
        return decode_outcomes(claims["c"])
    except (KeyError, TypeError, ValueError):
        return None
