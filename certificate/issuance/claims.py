"""The signed claim set: compact, because it travels in a QR code.

Claim names (documented in docs/claims.md, which offline verifiers follow):

``iss``  issuer (``IPC_ISSUER``, short)        ``jti``  certificate number, as printed
``iat``  issued at (seconds)                  ``exp``  expires at (seconds)
``n``    the holder's name as a passport's machine-readable zone writes it: the
         TD3 name field of ICAO Doc 9303, ``FAMILY<<GIVEN<NAMES``, letters A-Z,
         at most 39 characters (longer names cut as ICAO cuts them)
``nd``   name digest: binds the full name as filed, in any script and of any
         length (:func:`name_digest`), so that a verifier who is told the full
         name can check it; the name itself is shown by the online answer
``dob``  date of birth, YYYY-MM-DD
``c``    each country's outcome: one string of groups, each an outcome letter
         followed by the ISO 3166-1 alpha-2 codes with that outcome, in filing
         order (``"nKETHaNG"``: no record in KE and TH, no answer from NG)
``spc``  present and true on specimens
``idm``  how the holder's identity was confirmed: ``sandbox``, ``in_person``,
         ``oidc`` or an installed verifier's method (absent on certificates
         issued before identity proofing); who vouched (the organisation, the
         provider) is printed on the certificate and given by the online answer
``gap``  present when some declared residence is not covered by a definitive
         answer: the number of distinct calendar months of the declared
         timeline in a country that did not answer, has no participating
         authority or could not confirm the identity; see
         :mod:`certificate.issuance.coverage`

Outcome letters: ``n`` no record, ``r`` record found, ``i`` identity
unconfirmed, ``a`` did not answer by the deadline, ``f`` the check failed
(the agency could not be asked, or its answer was unusable, until the
deadline), ``c`` not covered.

With these, the largest certificate (twenty countries in six outcome groups,
a 39-letter name, a specimen confirmed in person, a four-digit ``gap``, the
longest ``IPC_BASE_URL``) fits a QR code of version 18 at error correction M.

Certificates issued before (claim set 1) carry ``fn`` and ``gn`` (the names
as filed, at most 56 bytes together), ``c`` as an object from two-letter
outcome code to countries (``{"NR": "KETH", "NA": "NG"}``) and ``idb`` (who
vouched, as text); every reader here accepts both sets.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import unicodedata
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import Any

from certificate.applications.latin import mrz_name
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
#: Claim set 2's one-letter outcome codes (lower case, so a group's start is unmistakable).
OUTCOME_LETTERS = {
    "no_record": "n",
    "record_found": "r",
    "identity_unconfirmed": "i",
    "no_response": "a",
    "failed": "f",
    "not_covered": "c",
}
LETTER_OUTCOMES = {letter: outcome for outcome, letter in OUTCOME_LETTERS.items()}
#: Bytes of SHA-256 kept in the name digest (``nd``): 64 bits, 11 base64url characters.
NAME_DIGEST_BYTES = 8

# Crockford's base32: no I, L, O or U, so a typed number is hard to get wrong.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ID_CHARS = 28  # 140 bits
_GROUP = 4
_TYPO_FIXES = str.maketrans("OIL", "011")
#: a number as typed, once cleaned: exactly the digits of the alphabet, nothing else
_TYPED_ID = re.compile(f"[{_ALPHABET}]{{{_ID_CHARS}}}")
_GROUPS = re.compile(f".{{{_GROUP}}}")


def new_certificate_id() -> str:
    """A 140-bit random certificate number in groups of four: ``7K2M-...``."""
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(_ID_CHARS))
    return "-".join(chars[i : i + _GROUP] for i in range(0, _ID_CHARS, _GROUP))


def normalise_certificate_id(typed: str) -> str | None:
    """The canonical form of a typed number, or None when it cannot be one.

    Case, spaces and hyphens are forgiven; O→0 and I/L→1 as Crockford intends.
    """
    cleaned = typed.upper().replace("-", "").replace(" ", "").translate(_TYPO_FIXES)
    if _TYPED_ID.fullmatch(cleaned) is None:
        return None
    return "-".join(_GROUPS.findall(cleaned))


def check_outcome(check: Check) -> str:
    """The outcome a certificate states for one check (which must be final)."""
    if check.status == CheckStatus.ANSWERED.value and check.outcome:
        return check.outcome
    if check.status == CheckStatus.NOT_COVERED.value:
        return "not_covered"
    if check.last_error:  # it had failed (or kept failing) when the deadline passed
        return "failed"
    return "no_response"


def encode_outcomes(outcomes: Iterable[tuple[str, str]]) -> str:
    """``[("KE", "no_record"), ("TH", "no_record"), ("NG", "no_response")]`` → ``"nKETHaNG"``:
    one group per outcome, in the order each first appears, countries in filing order."""
    grouped: dict[str, str] = {}
    for country, outcome in outcomes:
        letter = OUTCOME_LETTERS[outcome]
        grouped[letter] = grouped.get(letter, "") + country
    return "".join(letter + countries for letter, countries in grouped.items())


def decode_outcomes(claim: str | dict[str, str]) -> dict[str, str]:
    """The inverse: ``"nKETH"`` → ``{"KE": "no_record", "TH": "no_record"}``; also claim set
    1's object (``{"NR": "KETH"}``).

    Raises:
        ValueError: the claim is neither form (a signed claim never is).
    """
    if isinstance(claim, dict):
        result: dict[str, str] = {}
        for code, countries in claim.items():
            for i in range(0, len(countries), 2):
                result[countries[i : i + 2]] = CODE_OUTCOMES[code]
        return result
    return dict(_decode_letters(claim))


@lru_cache(maxsize=4096)
def _decode_letters(claim: str) -> tuple[tuple[str, str], ...]:
    """The current form, decoded once per distinct claim (every verification decodes one)."""
    result: dict[str, str] = {}
    outcome = None
    index = 0
    while index < len(claim):
        if claim[index] in LETTER_OUTCOMES:
            outcome = LETTER_OUTCOMES[claim[index]]
            index += 1
            continue
        country = claim[index : index + 2]
        if outcome is None or len(country) != 2 or not country.isupper():
            raise ValueError(f"not an outcomes claim: {claim!r}")
        result[country] = outcome
        index += 2
    return tuple(result.items())


def _canonical_name(part: str) -> str:
    spaced = " ".join(unicodedata.normalize("NFC", part).split())
    return unicodedata.normalize("NFC", spaced.casefold())


def name_digest(certificate_id: str, family_name: str, given_names: str) -> str:
    """The ``nd`` claim: binds the full name to the certificate, whatever its script or length.

    SHA-256 over ``"{certificate id}\n{family name}\n{given names}"``, each name in NFC
    with its spaces collapsed and its letter case folded, so that a name typed from an
    identity document matches however it is capitalised; the first
    :data:`NAME_DIGEST_BYTES` bytes, in base64url without padding. The certificate number
    goes in so that the same name gives a different digest on every certificate.
    """
    number = normalise_certificate_id(certificate_id) or certificate_id
    text = "\n".join((number, _canonical_name(family_name), _canonical_name(given_names)))
    digest = hashlib.sha256(text.encode()).digest()[:NAME_DIGEST_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def name_matches(claims: dict[str, Any], family_name: str, given_names: str) -> bool | None:
    """Whether a full name (as typed from an identity document) is the one the claims bind:
    through the digest ``nd`` (claim set 2) or the names themselves (claim set 1). Letter
    case, spacing and Unicode normalisation do not matter. None when the claims hold neither.
    """
    if isinstance(claims.get("nd"), str) and isinstance(claims.get("jti"), str):
        return secrets.compare_digest(
            claims["nd"], name_digest(claims["jti"], family_name, given_names)
        )
    if isinstance(claims.get("fn"), str) and isinstance(claims.get("gn"), str):
        return (_canonical_name(claims["fn"]), _canonical_name(claims["gn"])) == (
            _canonical_name(family_name),
            _canonical_name(given_names),
        )
    return None


def holder_name(claims: dict[str, Any]) -> str:
    """The holder's name as the claims state it: the MRZ form (claim set 2) or the names."""
    if isinstance(claims.get("n"), str):
        return str(claims["n"])
    return " ".join(str(claims[key]) for key in ("gn", "fn") if claims.get(key))


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
        "n": mrz_name(*application.latin_name()),
        "nd": name_digest(certificate_id, application.family_name, application.given_names),
        "dob": application.identity().date_of_birth.isoformat(),
        "c": encode_outcomes((check.country, check_outcome(check)) for check in application.checks),
    }
    proof = application.identity_proof
    if proof is not None and proof.method:
        claims["idm"] = proof.method
    if specimen:
        claims["spc"] = True
    if gap > 0:
        claims["gap"] = gap
    return claims
