"""ISO 3166-1 alpha-2 country codes, from pycountry's maintained list."""

from __future__ import annotations

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
