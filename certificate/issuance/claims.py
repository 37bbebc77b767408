"""The signed claim set: compact, because it travels in a QR code.

Claim names (documented in docs/claims.md, which offline verifiers follow):

``iss``  issuer (``IPC_ISSUER``, short)        ``jti``  certificate number
``iat``  issued at (seconds)                  ``exp``  expires at (seconds)
``fn``   family name                          ``gn``   given names
``dob``  date of birth, YYYY-MM-DD
``c``    outcome code → the countries with that outcome, as concatenated
         ISO 3166-1 alpha-2 codes (``{"NR": "KETH", "NA": "NG"}``)
``spc``  present and true on specimens
``idm``  how the holder's identity was confirmed: ``sandbox``, ``in_person``,
         ``oidc`` or an installed verifier's method (absent on certificates
         issued before identity proofing)
``idb``  who vouched for it: the ID checker's organisation or the identity
         provider (absent for the sandbox)
``gap``  present when some declared residence is not covered by a definitive
         answer: the number of distinct calendar months of the declared
         timeline in a country that did not answer (``NA``), has no
         participating authority (``NC``) or could not confirm the identity
         (``IU``); see :mod:`certificate.issuance.coverage`

Outcome codes: ``NR`` no record, ``RF`` record found, ``IU`` identity
unconfirmed, ``NA`` did not answer by the deadline, ``FA`` the check failed
(the agency could not be asked, or its answer was unusable, until the
deadline), ``NC`` not covered.
Grouping countries by outcome keeps twenty countries inside a QR code of
version 20 at error correction M.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from certificate.applications.models import Application
from certificate.checks.models import Check, CheckStatus

OUTCOME_CODES = {
    "no_record": "NR",
    "record_found": "RF",
    "identity_unconfirmed": "IU",
    "no_response": "NA",
    "failed": "FA",
    "not_covered": "NC",
}
CODE_OUTCOMES = {code: outcome for outcome, code in OUTCOME_CODES.items()}

# Crockford's base32: no I, L, O or U, so a typed number is hard to get wrong.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ID_CHARS = 28  # 140 bits
_GROUP = 4
_TYPO_FIXES = str.maketrans("OIL", "011")


def new_certificate_id() -> str:
    """A 140-bit random certificate number in groups of four: ``7K2M-...``."""
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(_ID_CHARS))
    return "-".join(chars[i : i + _GROUP] for i in range(0, _ID_CHARS, _GROUP))


def normalise_certificate_id(typed: str) -> str | None:
    """The canonical form of a typed number, or None when it cannot be one.

    Case, spaces and hyphens are forgiven; O→0 and I/L→1 as Crockford intends.
    """
    cleaned = typed.upper().replace("-", "").replace(" ", "")
    cleaned = cleaned.translate(_TYPO_FIXES)
    if len(cleaned) != _ID_CHARS or any(ch not in _ALPHABET for ch in cleaned):
        return None
    return "-".join(cleaned[i : i + _GROUP] for i in range(0, _ID_CHARS, _GROUP))


def check_outcome(check: Check) -> str:
    """The outcome a certificate states for one check (which must be final)."""
    if check.status == CheckStatus.ANSWERED.value and check.outcome:
        return check.outcome
    if check.status == CheckStatus.NOT_COVERED.value:
        return "not_covered"
    if check.last_error:  # it had failed (or kept failing) when the deadline passed
        return "failed"
    return "no_response"


def encode_outcomes(outcomes: Iterable[tuple[str, str]]) -> dict[str, str]:
    """``[("KE", "no_record"), ("TH", "no_record")]`` → ``{"NR": "KETH"}``, in filing order."""
    grouped: dict[str, str] = {}
    for country, outcome in outcomes:
        code = OUTCOME_CODES[outcome]
        grouped[code] = grouped.get(code, "") + country
    return grouped


def decode_outcomes(claim: dict[str, str]) -> dict[str, str]:
    """The inverse: ``{"NR": "KETH"}`` → ``{"KE": "no_record", "TH": "no_record"}``."""
    result: dict[str, str] = {}
    for code, countries in claim.items():
        for i in range(0, len(countries), 2):
            result[countries[i : i + 2]] = CODE_OUTCOMES[code]
    return result


def build_claims(
    application: Application,
    certificate_id: str,
    issuer: str,
    issued_at: datetime,
    expires_at: datetime,
    specimen: bool,
    gap: int = 0,
) -> dict[str, Any]:
    """The claim set for a certificate; ``gap`` (uncovered months) is only present when > 0."""
    claims: dict[str, Any] = {
        "iss": issuer,
        "jti": certificate_id,
        "iat": int(issued_at.timestamp()),
        "exp": int(expires_at.timestamp()),
        "fn": application.family_name,
        "gn": application.given_names,
        "dob": application.identity().date_of_birth.isoformat(),
        "c": encode_outcomes((check.country, check_outcome(check)) for check in application.checks),
    }
    proof = application.identity_proof
    if proof is not None and proof.method:
        claims["idm"] = proof.method
        if proof.vouched_by:
            claims["idb"] = proof.vouched_by
    if specimen:
        claims["spc"] = True
    if gap > 0:
        claims["gap"] = gap
    return claims
