"""Certificates in English, French, Spanish and Arabic, read back by independent tools.

The text is extracted with poppler's ``pdftotext`` (not the renderer's own
library), the pages are rasterised with ``pdftoppm`` at 150 dpi and kept
under ``artifacts/certificates/`` (git-ignored) for a person to look at,
and the QR code is decoded from each PNG with zxing-cpp.

Arabic is drawn as shaped glyphs in visual order; the PDF's ToUnicode maps
give those glyphs back as plain Arabic letters (no presentation forms), and
poppler reverses right-to-left runs, so the extracted text reads in
logical order without any normalisation here. Only the bidi embedding
controls poppler inserts around runs (U+202A-U+202C) are removed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from certificate.issuance.document import (
    CertificateDocument,
    CountryLine,
    RecordLine,
    UncoveredLine,
)
from certificate.issuance.i18n import LANGUAGES, country_name, labels, outcome_phrase
from certificate.issuance.pdf import render_certificate_pdf
from tests.conftest import application_body, drain

PDFTOTEXT = shutil.which("pdftotext")
PDFTOPPM = shutil.which("pdftoppm")
pytestmark = pytest.mark.skipif(
    PDFTOTEXT is None or PDFTOPPM is None, reason="pdftotext/pdftoppm (poppler-utils) missing"
)

ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts" / "certificates"
DPI = 150
BASE_URL = "https://ipc.example"
TOKEN = "eyJhbGciOiJFZERTQSIsImtpZCI6IjIwMjUtMDEifQ." + "x" * 300 + "." + "s" * 86

#: Bidi controls poppler wraps around runs, and isolates (not expected, removed alike).
_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_PRESENTATION_FORMS = re.compile("[\ufb50-\ufdff\ufe70-\ufefe]")
#: Labels that must appear, each on one line, in every language.
LABEL_KEYS = (
    "title",
    "certificate_number",
    "issued_on",
    "expires_on",
    "holder",
    "family_name",
    "given_names",
    "date_of_birth",
    "place_of_birth",
    "nationalities",
    "identity_document",
    "purpose",
    "countries",
    "country",
    "result",
    "answered_on",
    "authority",
    "offence",
    "court",
    "sentence",
    "notes",
    "coverage",
    "verify_heading",
)


def pdftotext(pdf: bytes, tmp_path: Path, *, layout: bool = False) -> str:
    assert PDFTOTEXT is not None
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    args = [PDFTOTEXT, "-enc", "UTF-8", *(["-layout"] if layout else []), str(path), "-"]
    result = subprocess.run(args, capture_output=True, text=True, check=True)
    return result.stdout


def clean(text: str) -> str:
    """Without poppler's bidi controls, whitespace runs made single spaces."""
    return " ".join(_CONTROLS.sub("", text).split())


def words(text: str) -> list[str]:
    """The words and numbers of ``text`` in order; punctuation and spacing dropped.

    Letters and digits are separate tokens: poppler's reordering of a
    right-to-left line moves a space that follows a number to before it
    (``من 2020-07 حتى`` comes out as ``من  2020-07حتى``), so spacing around
    numbers is not compared, only order.
    """
    return re.findall(r"[^\W\d_]+|\d+", _CONTROLS.sub("", text))


def contains_in_order(haystack: list[str], needle: list[str]) -> bool:
    return any(
        haystack[i : i + len(needle)] == needle for i in range(len(haystack) - len(needle) + 1)
    )


def rasterise(pdf: bytes, name: str, tmp_path: Path) -> Path:
    """Render the page to ``artifacts/certificates/<name>.png`` with pdftoppm."""
    assert PDFTOPPM is not None
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    source = tmp_path / f"{name}.pdf"
    source.write_bytes(pdf)
    (ARTIFACTS / f"{name}.pdf").write_bytes(pdf)
    subprocess.run(
        [PDFTOPPM, "-r", str(DPI), "-png", "-singlefile", str(source), str(ARTIFACTS / name)],
        check=True,
        capture_output=True,
    )
    png = ARTIFACTS / f"{name}.png"
    assert png.stat().st_size > 0
    return png


def qr_text(png: Path) -> str:
    with Image.open(png) as image:
        results = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(results) == 1, f"{png.name}: expected one QR code, found {len(results)}"
    return str(results[0].text)


def document(language: str) -> CertificateDocument:
    """A realistic certificate: every outcome, records, uncovered periods and a note."""
    conviction = RecordLine(
        offence="Driving under the influence of alcohol",
        category="Road traffic offence",
        date="2016-08-14",
        court="Amtsgericht München",
        sentence="Fine of 40 daily rates",
    )
    countries = (
        CountryLine(
            "FR",
            "France",
            "no_record",
            date(2025, 3, 4),
            "Casier judiciaire national",
            (("2009-09", "2013-06"),),
            reference="CJN-2025-0042",
        ),
        CountryLine(
            "DE",
            "Germany",
            "record_found",
            date(2025, 3, 5),
            "Bundesamt für Justiz",
            (("2013-07", "2017-12"),),
            records=(conviction,),
        ),
        CountryLine("KE", "Kenya", "no_response", None, "", (("2018-01", "2020-06"),)),
        CountryLine("MA", "Morocco", "identity_unconfirmed", date(2025, 3, 6), "مديرية الأمن"),
        CountryLine("TH", "Thailand", "not_covered", None, "", (("2020-07", None),)),
    )
    return CertificateDocument(
        certificate_id="7K2M-9QXD-4TRB",
        language=language,
        family_name="Okafor-Benali",
        given_names="Ada Chioma",
        other_names=("أدا بن علي",),
        date_of_birth=date(1990, 4, 17),
        place_of_birth="Lagos, Nigeria",
        nationalities=("NG", "MA"),
        document_type="passport",
        document_number="A1234567",
        document_issuing_country="NG",
        purpose="Teacher at a primary school",
        issued_on=date(2025, 3, 10),
        expires_on=date(2025, 9, 10),
        countries=countries,
        verify_url=f"{BASE_URL}/v#{TOKEN}",
        base_url=BASE_URL,
        notes=("Answer from Morocco received after an identity query.",),
        uncovered=(
            UncoveredLine("KE", "Kenya", "2018-01", "2020-06", "no_response"),
            UncoveredLine("TH", "Thailand", "2020-07", None, "not_covered"),
        ),
        gap_months=57,
    )


@pytest.fixture(scope="module")
def rendered() -> dict[str, bytes]:
    return {language: render_certificate_pdf(document(language)) for language in LANGUAGES}


@pytest.mark.parametrize("language", LANGUAGES)
def test_pdftotext_finds_the_translated_title_and_labels(
    rendered: dict[str, bytes], language: str, tmp_path: Path
) -> None:
    t = labels(language)
    raw = pdftotext(rendered[language], tmp_path)
    lines = {clean(line) for line in raw.splitlines()}
    text = clean(raw)
    for key in LABEL_KEYS:
        assert clean(t[key]) in lines or clean(t[key]) in text, (language, key, t[key])
    assert t["title"] in lines, "the title stands on its own line"
    for outcome in ("no_record", "record_found", "no_response", "not_covered"):
        assert contains_in_order(words(text), words(outcome_phrase(language, outcome))), outcome
    # names as entered, in any script; country names in the certificate's language
    assert "Okafor-Benali" in text
    assert "أدا بن علي" in text
    assert "7K2M-9QXD-4TRB" in text
    for code, english in (("FR", "France"), ("DE", "Germany"), ("KE", "Kenya")):
        assert country_name(code, english, language) in text
    # the statement, word for word and in order (punctuation aside)
    assert contains_in_order(words(text), words(t["statement"])), "statement out of order"
    assert contains_in_order(words(text), words(t["period"].format(start="2009-09", end="2013-06")))
    if language != "ar":
        assert t["statement"] in text


def test_arabic_is_extracted_as_plain_letters_in_logical_order(
    rendered: dict[str, bytes], tmp_path: Path
) -> None:
    t = labels("ar")
    raw = pdftotext(rendered["ar"], tmp_path)
    assert not _PRESENTATION_FORMS.search(raw), "shaped glyphs leaked into the text layer"
    text = clean(raw)
    assert t["title"] == "شهادة شرطة دولية"
    assert t["title"] in text
    assert t["title"][::-1] not in text  # not visual order
    assert "لا توجد سوابق" in text  # a lam-alef ligature, read as two letters in order
    assert "فرنسا" in text
    assert "كينيا" in text
    # a date range reads start first, in words ("from ... to ...")
    assert contains_in_order(words(text), ["من", "2009", "09", "إلى", "2013", "06"])
    assert contains_in_order(words(text), ["من", "2020", "07", "حتى", "الآن"])
    layout = pdftotext(rendered["ar"], tmp_path, layout=True)
    assert t["title"] in clean(layout)


@pytest.mark.parametrize("language", LANGUAGES)
def test_rendered_pages_are_kept_and_their_qr_decodes(
    rendered: dict[str, bytes], language: str, tmp_path: Path
) -> None:
    png = rasterise(rendered[language], f"rendered-{language}", tmp_path)
    with Image.open(png) as image:
        assert abs(image.width - round(210 / 25.4 * DPI)) <= 2  # A4 at 150 dpi
    assert qr_text(png) == document(language).verify_url


# --- the whole issuance path: filed in a language, signed, downloaded ----------------


def _issue(app: Flask, client: FlaskClient, auth: dict[str, str], language: str) -> Any:
    body = application_body(f"Benali-{language}", language=language)
    created = client.post("/api/v1/applications", json=body, headers=auth)
    assert created.status_code == 201, created.get_json()
    drain(app)
    certificate = client.get(
        f"/api/v1/applications/{created.get_json()['id']}", headers=auth
    ).get_json()["certificate"]
    certificate["pdf"] = client.get(certificate["pdf_url"], headers=auth).data
    return certificate


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_issued_certificate_reads_in_its_language(
    app: Flask, client: FlaskClient, auth: dict[str, str], language: str, tmp_path: Path
) -> None:
    certificate = _issue(app, client, auth, language)
    pdf = certificate["pdf"]
    assert b"/ETSI.CAdES.detached" in pdf  # signed, as issued
    t = labels(language)
    raw = pdftotext(pdf, tmp_path)
    text = clean(raw)
    for key in ("title", "holder", "family_name", "date_of_birth", "countries", "result"):
        assert t[key] in text, (language, key)
    assert f"Benali-{language}" in text
    assert certificate["id"] in text
    for code, english in (("KE", "Kenya"), ("TH", "Thailand")):
        assert country_name(code, english, language) in text, (language, code)
    assert contains_in_order(words(text), words(t["statement"]))
    if language == "ar":
        assert not _PRESENTATION_FORMS.search(raw)
        assert contains_in_order(words(text), ["من", "2012", "09", "إلى", "2016", "06"])

    png = rasterise(pdf, f"issued-{language}", tmp_path)
    assert qr_text(png) == certificate["verify_url"]


def test_a_name_in_arabic_script_is_printed_as_entered(tmp_path: Path) -> None:
    doc = replace(document("en"), family_name="بن علي", given_names="أدا")
    text = clean(pdftotext(render_certificate_pdf(doc), tmp_path))
    assert "بن علي" in text
    assert "أدا" in text


# --- the /v page: header, navigation and footer follow the page's language ------------


CHROME = (
    "International Police Certificate",
    "Skip to main content",
    "Verify a certificate",
    "Log in",
    "Sign up",
    "Personal data is used only for the checks the applicant consents to.",
)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_verify_page_chrome_follows_its_language(client: FlaskClient, language: str) -> None:
    from markupsafe import escape

    from certificate.i18n import gettext_in

    html = client.get(f"/v?lang={language}").get_data(as_text=True)
    assert f'dir="{"rtl" if language == "ar" else "ltr"}"' in html
    for english in CHROME:
        assert str(escape(gettext_in(language, english))) in html, (language, english)
    assert f'aria-label="{escape(gettext_in(language, "Main"))}"' in html
    if language != "en":
        assert "Skip to main content" not in html
        assert "Personal data is used only" not in html
    # every input a person fills in has a label; the answer region is a status
    for tag in re.findall(r"<input\b[^>]*>", html):
        if 'type="hidden"' in tag:
            continue
        input_id = re.search(r'\bid="([^"]+)"', tag)
        assert input_id is not None, tag
        assert f'<label for="{input_id.group(1)}">' in html, tag
    assert 'role="status"' in html


def test_the_rest_of_the_site_follows_the_language_too(client: FlaskClient) -> None:
    html = client.get("/", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html
    assert "Skip to main content" not in html
    assert "انتقل إلى المحتوى الرئيسي" in html


def test_an_answer_in_arabic_is_given_in_words_and_in_the_title(
    app: Flask, client: FlaskClient, auth: dict[str, str]
) -> None:
    from certificate.verify.i18n import words as page_words

    certificate = _issue(app, client, auth, "ar")
    t = page_words("ar")
    html = client.post(
        "/v?lang=ar", data={"certificate_number": certificate["id"], "date_of_birth": "1990-04-17"}
    ).get_data(as_text=True)
    # the answer leads the title: a genuine certificate's headline says what it contains
    title = html[html.index("<title>") : html.index("</title>")]
    assert title.startswith(f"<title>{t['status_label']}")
    assert any(headline in title for headline in t["headlines"].values())
    assert f" — {t['title']}" in title
    assert "صفحة التحقق" in html  # the footer's link, in Arabic
