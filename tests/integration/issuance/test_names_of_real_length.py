"""Names of real length: a 100-character Arabic name and a 100-character Spanish compound
name, each checked in twenty countries, are issued; the QR code read back from the
rendered page is version 18 or lower at level M; the offline verifier recognises the
holder; the online answer gives the full names."""

from __future__ import annotations

from typing import Any

import pypdfium2 as pdfium
import pytest
import zxingcpp
from flask import Flask
from flask.testing import FlaskClient

from certificate.config import MAX_BASE_URL_LENGTH
from certificate.issuance.qr import TARGET_VERSION
from certificate.verify.offline import check_name, report_lines, verify_offline
from tests.conftest import application_body, drain, signup_and_token
from tests.unit.issuance.test_claims import COUNTRIES

TWENTY = COUNTRIES  # the countries of the largest certificate in tests/unit/issuance/test_claims.py
LONGEST_BASE_URL = "https://" + "v" * (MAX_BASE_URL_LENGTH - len("https://"))

ARABIC = {
    "family_name": "الهاشمي القرشي آل عبدالرحمن",
    "given_names": "محمد عبدالله عبدالعزيز عبدالرحمن بن سليمان بن إبراهيم بن عبدالكريم الأنصاري",
    "latin_name": {
        "family_name": "Al-Hashimi Al-Qurashi Al Abdulrahman",
        "given_names": "Mohammed Abdullah Abdulaziz Abdulrahman bin Sulaiman bin Ibrahim",
    },
}
SPANISH = {
    "family_name": "Fernández de Córdoba y Álvarez de Toledo-Montenegro",
    "given_names": "María de los Ángeles Inmaculada Concepción Guadalupe",
}
# as a passport's machine-readable zone writes them: 39 characters, given names cut first
MRZ = {
    "arabic": "AL<HASHIMI<AL<QURASHI<AL<ABDULRAHMAN<<M",
    "spanish": "FERNANDEZ<DE<CORDOBA<Y<ALVAREZ<DE<TOLED",
}


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """Twenty sandbox countries and the longest public origin a QR code may carry."""
    return {**app_config, "SANDBOX_COUNTRIES": ",".join(TWENTY), "BASE_URL": LONGEST_BASE_URL}


def _qr_on_first_page(pdf: bytes) -> zxingcpp.Barcode:
    document = pdfium.PdfDocument(pdf)
    try:
        image = document[0].render(scale=300 / 72).to_pil()
    finally:
        document.close()
    [barcode] = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    return barcode


def _pdf_text(pdf: bytes) -> str:
    document = pdfium.PdfDocument(pdf)
    try:
        return " ".join(
            str(document[i].get_textpage().get_text_range()) for i in range(len(document))
        )
    finally:
        document.close()


@pytest.mark.parametrize(("script", "name"), [("arabic", ARABIC), ("spanish", SPANISH)])
def test_a_100_character_name_in_20_countries_is_issued_and_recognised(
    app: Flask, client: FlaskClient, script: str, name: dict[str, Any]
) -> None:
    full_name = f"{name['family_name']} {name['given_names']}"
    assert len(full_name) >= 100
    auth = signup_and_token(client)
    body = application_body(
        residences=[{"country": c, "from": "2001-01", "to": "2001-06"} for c in TWENTY[:-1]]
    )
    body["applicant"].update(name)
    body["applicant"]["nationalities"] = [TWENTY[-1]]
    filed = client.post("/api/v1/applications", json=body, headers=auth)
    assert filed.status_code == 201, filed.get_json()
    assert len(filed.get_json()["checks"]) == 20
    drain(app)
    done = client.get(f"/api/v1/applications/{filed.get_json()['id']}", headers=auth).get_json()
    assert done["status"] == "complete"
    certificate = done["certificate"]
    assert certificate is not None
    pdf = client.get(certificate["pdf_url"], headers=auth).data

    # the QR code, read back from the rendered page by an independent decoder
    barcode = _qr_on_first_page(pdf)
    assert barcode.text == certificate["verify_url"]
    assert barcode.text.startswith(LONGEST_BASE_URL + "/v#")
    assert int(barcode.extra["Version"]) <= TARGET_VERSION == 18
    assert barcode.ec_level == "M"
    token = barcode.text.split("#", 1)[1]

    # the certificate prints the Latin form beside the name as filed
    text = " ".join(_pdf_text(pdf).split())
    latin = name.get("latin_name")
    if latin:
        assert f"{latin['family_name']}, {latin['given_names']}" in text

    # offline: the holder in MRZ form, and the full name checked against the digest
    jwks = client.get("/.well-known/jwks.json").get_json()
    offline = verify_offline(pdf, jwks)
    assert offline.valid, offline.reason
    assert offline.claims is not None
    mrz = offline.claims["n"]
    assert mrz == MRZ[script]
    assert f"holder: {mrz}" in report_lines(offline)
    typed = check_name(offline, name["family_name"], " ".join(name["given_names"].split()))
    assert typed.name_matches is True
    assert "name given: matches the certificate" in report_lines(typed)
    other = check_name(offline, name["family_name"], name["given_names"][:-1])
    assert other.name_matches is False
    assert verify_offline(token, jwks).claims == offline.claims

    # online: the full names, from the service's records
    answer = client.post("/api/v1/verify", json={"token": token}).get_json()
    assert answer["status"] == "valid"
    assert answer["holder"]["family_name"] == name["family_name"]
    assert answer["holder"]["given_names"] == name["given_names"]
    assert answer["holder"]["latin_name"] == latin
    assert answer["certificate"]["n"] == mrz
    assert answer["summary"]["countries"] == 20
