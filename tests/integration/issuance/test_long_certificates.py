"""A certificate of any length, through the real path: twenty agencies answer through the
agency API with five records each; the certificate is issued on as many pages as it
needs, each carrying the certificate number (on one line) and "page n of m"."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from flask.testing import FlaskClient

from certificate.issuance.i18n import labels
from country_adapters.records import CATEGORIES
from tests.conftest import application_body, drain
from tests.integration.agency.test_agency_api import _register

# twenty countries no sandbox serves, each with an agency answering through the API
COUNTRIES = [
    "IS",
    "NO",
    "SE",
    "FI",
    "DK",
    "DE",
    "AT",
    "CH",
    "PL",
    "CZ",
    "HU",
    "RO",
    "BG",
    "GR",
    "PT",
    "IE",
    "NL",
    "BE",
    "LU",
    "IT",
]
RECORDS_EACH = 5


def _records(country: str) -> list[dict[str, str]]:
    return [
        {
            "offence": f"Offence number {n} recorded in {country}",
            "category": CATEGORIES[(n + len(country)) % len(CATEGORIES)],
            "date": f"{2000 + n}-0{n}",
            "court": f"District Court {n} of {country}",
            "sentence": f"{n} months imprisonment",
        }
        for n in range(1, RECORDS_EACH + 1)
    ]


def _pdftotext_page(pdf_path: Path, page: int) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(pdf_path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_twenty_countries_with_five_records_each_are_issued_on_numbered_pages(
    app: Flask, client: FlaskClient, auth: dict[str, str], tmp_path: Path
) -> None:
    agencies = {c: _register(app, c, Ed25519PrivateKey.generate()) for c in COUNTRIES}
    body = application_body(
        residences=[{"country": c, "from": "2001-01", "to": "2001-06"} for c in COUNTRIES[:-1]]
    )
    body["applicant"]["nationalities"] = [COUNTRIES[-1]]
    filed = client.post("/api/v1/applications", json=body, headers=auth)
    assert filed.status_code == 201, filed.get_json()
    drain(app)
    for country, agency in agencies.items():
        queries = client.get("/api/v1/agency/queries?status=open", headers=agency.headers())
        [query] = queries.get_json()["queries"]
        answer: dict[str, Any] = {"outcome": "record_found", "records": _records(country)}
        answered = client.post(
            f"/api/v1/agency/queries/{query['id']}/answer", json=answer, headers=agency.headers()
        )
        assert answered.status_code == 200, answered.get_json()
    drain(app)

    done = client.get(f"/api/v1/applications/{filed.get_json()['id']}", headers=auth).get_json()
    assert done["status"] == "complete"
    assert done["certificate"] is not None
    number = done["certificate"]["id"]
    pdf = client.get(done["certificate"]["pdf_url"], headers=auth).data
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    document = pdfium.PdfDocument(pdf)
    try:
        pages = len(document)
    finally:
        document.close()
    assert pages > 1
    page_of = labels("en")["page_of"]
    every_page = []
    for page in range(1, pages + 1):
        text = _pdftotext_page(path, page)
        # the number whole on one line of every page, and the page's place in the whole
        assert any(number in line for line in text.splitlines()), page
        assert page_of.format(page=page, pages=pages) in " ".join(text.split()), page
        every_page.append(" ".join(text.split()))
    printed = " ".join(every_page)
    for country in COUNTRIES:
        for n in range(1, RECORDS_EACH + 1):
            assert f"Offence number {n} recorded in {country}" in printed

    # the long certificate verifies like any other, uploaded as a PDF too
    uploaded = client.post(
        "/api/v1/verify", data={"file": (path.open("rb"), "certificate.pdf")}
    ).get_json()
    assert uploaded["status"] == "valid"
    assert uploaded["summary"]["record_found"] == 20
