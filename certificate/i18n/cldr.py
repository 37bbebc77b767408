"""Country names and dates in each language, from the Unicode CLDR through Babel."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime
from functools import cache

from babel import Locale
from babel.dates import format_date

from certificate.i18n.registry import language, supported
from country_adapters.countries import all_countries


@cache
def _locale(code: str) -> Locale:
    try:
        return Locale.parse(language(code).locale if supported(code) else code)
    except (ValueError, LookupError):  # a language CLDR does not know: English names
        return Locale.parse("en")


def country_name(code: str, language: str) -> str:
    """The short name of country ``code`` in ``language`` (the code itself if unknown)."""
    territories = _locale(language).territories
    return str(territories.get(code) or territories.get(code.upper()) or code)


def _sort_key(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


@cache
def country_names(language: str) -> tuple[tuple[str, str], ...]:
    """Every ISO 3166-1 country as ``(code, name in language)``, sorted by that name."""
    named = [(code, country_name(code, language)) for code, _ in all_countries()]
    return tuple(sorted(named, key=lambda pair: _sort_key(pair[1])))


def long_date(day: date, language: str) -> str:
    """``day`` as the language writes it in full, e.g. ``17 avril 1990`` or ``17 April 1990``."""
    return format_date(day, format="long", locale=_locale(language))


def medium_date(day: date, language: str) -> str:
    """``day`` with the month's short name, e.g. ``17 Apr 2026``, ``17 avr. 2026``, ``17 أبريل 2026``."""
    return format_date(day, format="d MMM y", locale=_locale(language))


def date_time_utc(moment: datetime, language: str) -> str:
    """A moment in UTC, to the minute, as the language writes it, then ``UTC``."""
    moment = moment.astimezone(UTC)
    return f"{medium_date(moment.date(), language)}, {moment:%H:%M} UTC"
