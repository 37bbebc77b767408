"""The OpenID Connect verifier compares a provider's claims with the application."""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Any

import pytest

from certificate.identity.verifiers import (
    DocumentSeen,
    EvidenceMismatch,
    OidcVerifier,
    StatedIdentity,
)

STATED = StatedIdentity(
    family_name="Nguyễn",
    given_names="Thị Minh Anh",
    date_of_birth=date(1990, 4, 17),
    document=DocumentSeen("passport", "A1234567", "VN"),
)
CLAIMS = {"family_name": "Nguyễn", "given_name": "Thị Minh Anh", "birthdate": "1990-04-17"}


def _verify(claims: dict[str, Any]) -> Any:
    return OidcVerifier().verify(STATED, {"claims": claims, "provider": "VNeID"})


def test_equal_claims_confirm_whatever_the_normal_form_case_and_spacing() -> None:
    decomposed = {
        **CLAIMS,
        "family_name": unicodedata.normalize("NFD", "NGUYỄN"),
        "given_name": " thị  minh anh ",
    }
    decision = _verify(decomposed)
    assert (decision.confirmed, decision.vouched_by) == (True, "VNeID")


def test_identity_assurance_verified_claims_are_the_ones_compared() -> None:
    wrapped = {
        "family_name": "Someone Else",  # self-asserted, not what the provider verified
        "verified_claims": {"verification": {"trust_framework": "eidas"}, "claims": CLAIMS},
    }
    assert _verify(wrapped).confirmed
    with pytest.raises(EvidenceMismatch):
        _verify({**CLAIMS, "verified_claims": {"claims": {"family_name": "Nguyễn"}}})


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"family_name": "Nguyen"}, "family_name"),  # a dropped accent is another name
        ({"given_name": "Thị Minh"}, "given_name"),
        ({"birthdate": "0000-04-17"}, "birthdate"),  # a birthday without its year
        ({"birthdate": None}, "birthdate"),
        ({"family_name": None, "birthdate": "1990-04-18"}, "family_name,birthdate"),
    ],
)
def test_a_claim_missing_or_different_is_a_mismatch_naming_it(
    changes: dict[str, Any], named: str
) -> None:
    claims = {k: v for k, v in {**CLAIMS, **changes}.items() if v is not None}
    with pytest.raises(EvidenceMismatch) as raised:
        _verify(claims)
    assert raised.value.field == named


def test_the_name_in_latin_letters_is_accepted_in_full_not_mixed_with_the_filed_one() -> None:
    stated = StatedIdentity(
        family_name="Иванова",
        given_names="Мария",
        date_of_birth=date(1990, 4, 17),
        document=DocumentSeen("passport", "A1234567", "RU"),
        latin_family_name="IVANOVA",
        latin_given_names="MARIIA",
    )
    verifier = OidcVerifier()
    for family, given in (("Иванова", "Мария"), ("Ivanova", "Mariia")):
        claims = {"family_name": family, "given_name": given, "birthdate": "1990-04-17"}
        assert verifier.verify(stated, {"claims": claims}).confirmed
    mixed = {"family_name": "Ivanova", "given_name": "Мария", "birthdate": "1990-04-17"}
    with pytest.raises(EvidenceMismatch) as raised:
        verifier.verify(stated, {"claims": mixed})
    assert raised.value.field == "given_name"
    other = {"family_name": "Ivanov", "given_name": "Mariia", "birthdate": "1990-04-17"}
    with pytest.raises(EvidenceMismatch) as raised:
        verifier.verify(stated, {"claims": other})
    assert raised.value.field == "family_name"
