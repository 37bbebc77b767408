"""The signed claims: compact enough for the QR code, and decodable."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from certificate.applications.models import Application
from certificate.applications.schemas import MAX_COUNTRIES, MAX_NAME_BYTES, ApplicationIn
from certificate.checks.models import Check
from certificate.config import MAX_BASE_URL_LENGTH, MAX_ISSUER_LENGTH
from certificate.identity.models import IdentityProof
from certificate.identity.verifiers import MAX_VOUCHER_BYTES
from certificate.issuance.claims import (
    build_claims,
    decode_outcomes,
    encode_outcomes,
    new_certificate_id,
    normalise_certificate_id,
)
from certificate.issuance.qr import MAX_VERSION, make_qr, qr_version
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


def _worst_case_application() -> Application:
    half = MAX_NAME_BYTES // 4  # letters of two UTF-8 bytes each
    application = Application(
        family_name="ش" * half,
        given_names="ض" * half,
        date_of_birth=date(1990, 4, 17),
        document_number="A1234567",
        document_expires=date(2031, 1, 1),
    )
    application.checks = [
        Check(country=country, status="answered", outcome=OUTCOMES[i % 3])
        if i % 5 < 3
        else Check(country=country, status=OUTCOMES[i % 5])
        for i, country in enumerate(COUNTRIES[:MAX_COUNTRIES])
    ]
    # the longest voucher a certificate may name, in two-byte letters
    application.identity_proof = IdentityProof(
        method="in_person", vouched_by="ص" * (MAX_VOUCHER_BYTES // 2), code="AAAAAAAA"
    )
    return application


def test_the_largest_allowed_certificate_fits_the_qr_limit() -> None:
    key = Ed25519PrivateKey.generate()
    kid = thumbprint_kid(public_jwk(key.public_key()))
    base_url = "https://" + "v" * (MAX_BASE_URL_LENGTH - len("https://"))
    now = datetime.now(UTC)
    claims = build_claims(
        _worst_case_application(),
        new_certificate_id(),
        "I" * MAX_ISSUER_LENGTH,
        now,
        now + timedelta(days=3650),
        specimen=True,
    )
    assert len(decode_outcomes(claims["c"])) == MAX_COUNTRIES
    assert claims["idm"] == "in_person"
    qr = make_qr(verify_url(base_url, jws.sign(claims, key, kid, typ=jws.CERTIFICATE_TYP)))
    assert qr_version(qr) <= MAX_VERSION


def test_outcomes_round_trip_in_filing_order() -> None:
    pairs = [
        ("KE", "no_record"),
        ("TH", "record_found"),
        ("NG", "no_record"),
        ("NZ", "not_covered"),
    ]
    encoded = encode_outcomes(pairs)
    assert encoded == {"NR": "KENG", "RF": "TH", "NC": "NZ"}
    assert decode_outcomes(encoded) == dict(pairs)


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


def test_names_longer_than_the_qr_budget_are_refused() -> None:
    from pydantic import ValidationError

    from certificate.errors import validation_fields
    from tests.conftest import application_body

    body = application_body()
    body["applicant"]["family_name"] = "Ш" * 18
    body["applicant"]["given_names"] = "Ж" * 11
    with pytest.raises(ValidationError) as info:
        ApplicationIn.model_validate(body)
    assert "at most 56" in validation_fields(info.value)["applicant.given_names"]
