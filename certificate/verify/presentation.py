"""A verification answer in words, as pages show it: the verification page, the employer's.

A genuine certificate in force leads with what it contains (its summary), so
that nothing shown reads as a clean record when a record was found; an
invalid token's claims are never shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from certificate.issuance.claims import OUTCOME_CODES, decode_outcomes, holder_name
from certificate.issuance.summary import claim_outcomes, content_verdict, summary_sentence
from certificate.verify.i18n import country_names, words
from certificate.verify.service import Verification


@dataclass(frozen=True)
class CountryLine:
    """One country's outcome as the certificate states it."""

    code: str
    name: str
    outcome: str
    words: str


@dataclass(frozen=True)
class ResultView:
    """What the page shows about one verification."""

    status: str
    title: str
    reason: str
    #: The colour class: the status, except that a certificate in force takes its
    #: content's (``record``, ``unconfirmed``, or ``valid`` only when every country
    #: confirmed no record): a record found is never green.
    tone: str = ""
    summary: str | None = None
    holder: str | None = None
    date_of_birth: str | None = None
    number: str | None = None
    issued: str | None = None
    expires: str | None = None
    specimen: bool = False
    gap: int = 0
    countries: list[CountryLine] = field(default_factory=list)


def _epoch_day(value: Any) -> str | None:
    try:
        return datetime.fromtimestamp(int(value), UTC).date().isoformat()
    except (TypeError, ValueError, OverflowError):
        return None


def country_outcomes(claim: Any, names: Mapping[str, str]) -> list[tuple[str, str]]:
    """``(country, outcome code)`` pairs from the signed ``c`` claim, sorted by shown name."""
    if not isinstance(claim, dict | str):
        return []
    try:
        decoded = decode_outcomes(claim)
    except (KeyError, TypeError, ValueError):
        return []
    pairs = [(country, OUTCOME_CODES[outcome]) for country, outcome in decoded.items()]
    return sorted(pairs, key=lambda pair: names.get(pair[0], pair[0]))


def result_view(verification: Verification, language: str = "en") -> ResultView:
    """The answer in words; an invalid token's claims are never shown."""
    table = words(language)
    status = verification.status
    title, reason = table["statuses"][status], table["reasons"][status]
    claims = verification.claims
    if claims is None or status in ("invalid", "unknown"):
        return ResultView(status, title, reason, tone=status)
    outcomes = list((claim_outcomes(claims) or {}).values())
    tone = status
    if status == "valid":
        verdict = content_verdict(outcomes)
        title = table["headlines"][verdict]
        tone = {"record_found": "record", "not_confirmed": "unconfirmed"}.get(verdict, "valid")
    names = country_names(language)
    # the full name as filed (read from the database by the online answer), else the claims'
    holder = verification.holder_line() or holder_name(claims)
    countries = [
        CountryLine(code, names.get(code, code), outcome, table["outcomes"][outcome])
        for code, outcome in country_outcomes(claims.get("c"), names)
    ]
    gap = claims.get("gap")
    return ResultView(
        status,
        title,
        reason,
        tone=tone,
        summary=summary_sentence(outcomes, language) if outcomes else None,
        holder=holder or None,
        date_of_birth=str(claims["dob"]) if claims.get("dob") else None,
        number=str(claims["jti"]) if claims.get("jti") else None,
        issued=_epoch_day(claims.get("iat")),
        expires=_epoch_day(claims.get("exp")),
        specimen=claims.get("spc") is True,
        gap=gap if isinstance(gap, int) and gap > 0 else 0,
        countries=countries,
    )
