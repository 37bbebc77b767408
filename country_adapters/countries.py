"""ISO 3166-1 alpha-2 country codes, from pycountry's maintained list."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import cache

import pycountry


@cache
def _alpha2_names() -> dict[str, str]:
    return {c.alpha_2: c.name for c in pycountry.countries}


def is_country_code(code: str) -> bool:
    """True for an assigned ISO 3166-1 alpha-2 code in upper case."""
    return code in _alpha2_names()


def country_name(code: str) -> str:
    """The English short name of a country code (the code itself if unknown)."""
    return _alpha2_names().get(code, code)


def _sort_key(name: str) -> str:
    """Accents do not move a name to the end of the list ("Åland" sorts with "A")."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


@cache
def all_countries() -> tuple[tuple[str, str], ...]:
    """Every ISO 3166-1 country as ``(alpha-2 code, English name)``, sorted by name."""
    return tuple(sorted(_alpha2_names().items(), key=lambda item: _sort_key(item[1])))


def parse_countries(value: str | Iterable[str] | None) -> list[str]:
    """Turn ``"KE, th,GB"`` into ``["GB", "KE", "TH"]``; raise ValueError on a bad code."""
    if not value:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    codes = sorted({item.strip().upper() for item in items if item.strip()})
    bad = [code for code in codes if not is_country_code(code)]
    if bad:
        raise ValueError(f"not ISO 3166-1 alpha-2 country codes: {', '.join(bad)}")
    return codes
