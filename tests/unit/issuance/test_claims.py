"""The signed claims: compact enough for the QR code, and decodable."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from certificate.applications.latin import MRZ_NAME_LENGTH
from certificate.applications.models import Application
from certificate.applications.schemas import MAX_COUNTRIES, ApplicationIn
from certificate.checks.models import Check
from certificate.config import MAX_BASE_URL_LENGTH, MAX_ISSUER_LENGTH
from certificate.identity.models import IdentityProof
from certificate.identity.verifiers import MAX_VOUCHER_BYTES
from certificate.issuance.claims import (
    build_claims,
    decode_outcomes,
    encode_outcomes,
    holder_name,
    name_digest,
    name_matches,
    new_certificate_id,
    normalise_certificate_id,
)
from certificate.issuance.coverage import UncoveredPeriod, gap_months
from certificate.issuance.qr import TARGET_VERSION, make_qr
from certificate.issuance.service import verify_url
from certificate.signing import jws
from certificate.signing.keys import public_jwk, thumbprint_kid

OUTCOMES = ["no_record", "record_found", "identity_unconfirmed", "no_response", "not_covered"]
COUNTRIES = [
    "KE",
    "TH",
    "NG",
    "GB",
    "FR",
    "ES",
    "IN",
    "BR",
    "ZA",
    "PH",
    "CA",
    "MA",
    "DE",
    "IT",
    "JP",
    "KR",
    "MX",
    "AR",
    "EG",
    "SA",
]


ARABIC_100 = " ".join(["عبدالرحمن"] * 10)[:100]  # a long name in two-byte letters
SPANISH_FAMILY = "Fernández de Córdoba y Álvarez de Toledo-Montenegro"
SPANISH_GIVEN = "María de los Ángeles Inmaculada Concepción Guadalupe"
SIX_OUTCOMES = ["no_record", "record_found", "identity_unconfirmed", "no_response", "failed"]


def _worst_case_application(family_name: str, given_names: str, latin: tuple[str, str] | None):
    application = Application(
        family_name=family_name,
        given_names=given_names,
        latin_family_name=latin[0] if latin else None,
        latin_given_names=latin[1] if latin else None,
        date_of_birth=date(1990, 4, 17),
        document_number="A1234567",
        document_expires=date(2031, 1, 1),
    )
    # twenty countries in all six outcome groups
    application.checks = [
        Check(country=country, status="answered", outcome=SIX_OUTCOMES[i % 3])
        if i < 10
        else Check(country=country, status="not_covered")
        if i < 14
        else Check(country=country, status="sent", last_error="timed out" if i % 2 else None)
        for i, country in enumerate(COUNTRIES[:MAX_COUNTRIES])
    ]
    # the longest voucher a certificate may name, in two-byte letters
    application.identity_proof = IdentityProof(
        method="in_person", vouched_by="ص" * (MAX_VOUCHER_BYTES // 2), code="AAAAAAAA"
    )
    return application


# the most months a declared timeline can leave uncovered: 120 years
LONGEST_GAP = gap_months([UncoveredPeriod("DE", "1906-01", None, "no_response")], date(2026, 1, 1))


@pytest.mark.parametrize(
    ("family_name", "given_names", "latin"),
    [
        (ARABIC_100[:50], ARABIC_100[50:], ("Abdulrahman" * 4, "Abdulrahman " * 5)),
        (SPANISH_FAMILY, SPANISH_GIVEN, None),
    ],
    ids=["arabic", "spanish"],
)
def test_the_largest_certificate_fits_a_version_18_qr_code(
    family_name: str, given_names: str, latin: tuple[str, str] | None
) -> None:
    assert len(family_name + " " + given_names) >= 100
    key = Ed25519PrivateKey.generate()
    kid = thumbprint_kid(public_jwk(key.public_key()))
    base_url = "https://" + "v" * (MAX_BASE_URL_LENGTH - len("https://"))
    now = datetime.now(UTC)
    certificate_id = new_certificate_id()
    claims = build_claims(
        _worst_case_application(family_name, given_names, latin),
        certificate_id,
        "I" * MAX_ISSUER_LENGTH,
        now,
        now + timedelta(days=3650),
        specimen=True,
        gap=LONGEST_GAP,
    )
    assert LONGEST_GAP >= 1440
    assert len(decode_outcomes(claims["c"])) == MAX_COUNTRIES
    assert len(set(decode_outcomes(claims["c"]).values())) == 6
    assert claims["idm"] == "in_person"
    assert len(claims["n"]) == MRZ_NAME_LENGTH
    assert name_matches(claims, family_name.upper(), "  " + given_names) is True
    assert name_matches(claims, family_name, given_names + "a") is False
    qr = make_qr(verify_url(base_url, jws.sign(claims, key, kid, typ=jws.CERTIFICATE_TYP)))
    assert qr.version <= TARGET_VERSION == 18


def test_the_name_travels_in_its_mrz_form_and_as_a_digest() -> None:
    application = _worst_case_application(SPANISH_FAMILY, SPANISH_GIVEN, None)
    now = datetime.now(UTC)
    claims = build_claims(application, "X" * 28, "IPC", now, now, specimen=False)
    assert claims["n"] == "FERNANDEZ<DE<CORDOBA<Y<ALVAREZ<DE<TOLED"
    assert holder_name(claims) == claims["n"]
    assert not {"fn", "gn", "idb"} & set(claims)
    # the digest is the certificate's own: the same name on another certificate differs
    assert claims["nd"] == name_digest("X" * 28, SPANISH_FAMILY, SPANISH_GIVEN)
    assert claims["nd"] != name_digest("Y" * 28, SPANISH_FAMILY, SPANISH_GIVEN)
    assert len(claims["nd"]) == 11
    # a certificate of claim set 1 is still read: names, and outcomes as an object
    legacy = {"fn": "Okafor", "gn": "Ada Chioma", "c": {"NR": "KE", "NA": "NG"}}
    assert holder_name(legacy) == "Ada Chioma Okafor"
    assert name_matches(legacy, "OKAFOR", "Ada  Chioma") is True
    assert decode_outcomes(legacy["c"]) == {"KE": "no_record", "NG": "no_response"}


def test_outcomes_round_trip_in_filing_order() -> None:
    pairs = [
        ("KE", "no_record"),
        ("TH", "record_found"),
        ("NG", "no_record"),
        ("NZ", "not_covered"),
    ]
    encoded = encode_outcomes(pairs)
    assert encoded == "nKENGrTHcNZ"
    assert decode_outcomes(encoded) == dict(pairs)
    with pytest.raises(ValueError, match="not an outcomes claim"):
        decode_outcomes("KEnTH")


def test_certificate_numbers_normalise_as_typed() -> None:
    number = new_certificate_id()
    assert normalise_certificate_id(number.lower().replace("-", " ")) == number
    assert normalise_certificate_id(number.replace("0", "O")) == number
    assert normalise_certificate_id(number[:-1]) is None
    assert normalise_certificate_id("U" * 28) is None  # not in Crockford's alphabet


@pytest.mark.parametrize("count", [MAX_COUNTRIES + 1])
def test_more_countries_than_a_certificate_holds_are_refused(count: int) -> None:
    from pydantic import ValidationError

    from certificate.errors import validation_fields
    from tests.conftest import application_body

    body = application_body()
    body["residences"] = [
        {"country": c, "from": "2001-01", "to": "2001-02"}
        for c in ([*COUNTRIES, "US", "CN"])[:count]
    ]
    with pytest.raises(ValidationError) as info:
        ApplicationIn.model_validate(body)
    assert "at most 20" in validation_fields(info.value)["residences"]


def test_names_of_real_length_are_accepted() -> None:
    from tests.conftest import application_body

    body = application_body()
    body["applicant"]["family_name"] = SPANISH_FAMILY
    body["applicant"]["given_names"] = SPANISH_GIVEN
    filed = ApplicationIn.model_validate(body)
    assert filed.applicant.family_name == SPANISH_FAMILY
