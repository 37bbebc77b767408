"""Tests of the certificate PDF renderer, its QR code and its labels.

The PDFs are checked the way a person or a verifier would meet them: pages
counted and text extracted with pypdfium2, the page rasterised and its QR
code decoded with zxing-cpp.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp

from certificate.issuance.document import CertificateDocument, CountryLine, RecordLine
from certificate.issuance.i18n import LANGUAGES, OUTCOMES, labels, outcome_phrase
from certificate.issuance.pdf import (
    FONT_SIZES,
    FRAME_HEIGHT,
    QR_SYMBOL_SIZE,
    _render_one_page,
    _size_by_measure,
    _story_height,
    render_certificate_pdf,
)
from certificate.issuance.qr import MAX_VERSION, QrMatrix, make_qr

BASE_URL = "http://127.0.0.1:5000"
RENDER_DPI = 200
MM_PER_INCH = 25.4
PT_PER_MM = 72 / MM_PER_INCH

COUNTRIES = [
    ("FR", "France", "Casier judiciaire national"),
    ("DE", "Germany", "Bundesamt für Justiz — Bundeszentralregister"),
    ("ES", "Spain", "Registro Central de Penados"),
    ("IT", "Italy", "Casellario giudiziale centrale"),
    ("PT", "Portugal", "Direção-Geral da Administração da Justiça"),
    ("BE", "Belgium", "Casier judiciaire central"),
    ("NL", "Netherlands", "Justis — Justitiële Informatiedienst"),
    ("PL", "Poland", "Krajowy Rejestr Karny"),
    ("GR", "Greece", "Ποινικό Μητρώο — Υπουργείο Δικαιοσύνης"),
    ("MA", "Morocco", "Casier judiciaire central — المديرية العامة"),
    ("EG", "Egypt", "مصلحة الأمن العام"),
    ("US", "United States", "FBI Criminal Justice Information Services"),
    ("CA", "Canada", "Royal Canadian Mounted Police"),
    ("GB", "United Kingdom", "ACRO Criminal Records Office"),
    ("IE", "Ireland", "National Vetting Bureau"),
    ("UA", "Ukraine", "Міністерство внутрішніх справ"),
    ("JP", "Japan", "National Police Agency"),
    ("AU", "Australia", "Australian Federal Police"),
    ("BR", "Brazil", "Polícia Federal"),
    ("MX", "Mexico", "Secretaría de Seguridad y Protección Ciudadana"),
]


def jws_like(length: int) -> str:
    """A compact-JWS-shaped base64url string of exactly ``length`` chars."""
    signature = _b64(hashlib.sha512(b"sig").digest())[:86]
    header = _b64(b'{"alg":"ES256","kid":"2025-01"}')
    payload_len = length - len(header) - len(signature) - 2
    seed = b"".join(hashlib.sha256(bytes([i])).digest() for i in range(40))
    payload = _b64(seed)[:payload_len]
    token = f"{header}.{payload}.{signature}"
    assert len(token) == length
    return token


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


#: A long realistic token (fits version 19 at level M; the limit is 20).
TOKEN = jws_like(594)
VERIFY_URL = f"{BASE_URL}/v#{TOKEN}"


def make_document(
    language: str = "en",
    *,
    specimen: bool = False,
    country_count: int = 20,
    records_in: tuple[str, ...] = ("DE", "US"),
    verify_url: str = VERIFY_URL,
) -> CertificateDocument:
    """A certificate with every outcome, long names and a few records."""
    outcomes = ["no_record", "no_record", "no_response", "identity_unconfirmed", "not_covered"]
    lines = []
    for index, (code, name, authority) in enumerate(COUNTRIES[:country_count]):
        outcome = "record_found" if code in records_in else outcomes[index % len(outcomes)]
        records: tuple[RecordLine, ...] = ()
        if outcome == "record_found":
            records = (
                RecordLine(
                    offence="Driving under the influence of alcohol",
                    category="Road traffic offence",
                    date="2016-08-14",
                    court="Amtsgericht München",
                    sentence="Fine of 40 daily rates; 9-month driving ban",
                ),
                RecordLine(
                    offence="Theft",
                    category="Property offence",
                    date="2012-02-03",
                    court="District Court",
                    sentence="6 months suspended",
                ),
            )
        periods: tuple[tuple[str, str | None], ...] = ()
        if index % 4 != 3:
            periods = (("2009-09", "2013-06"), ("2017-01", None if index == 0 else "2021-12"))
        lines.append(
            CountryLine(
                country=code,
                country_name=name,
                outcome=outcome,
                answered_on=None if outcome in ("no_response", "not_covered") else date(2025, 3, 4),
                authority="" if outcome == "not_covered" else authority,
                periods=periods,
                records=records,
                reference="REF-2025-0042-XK" if index % 3 == 0 else None,
            )
        )
    return CertificateDocument(
        certificate_id="IPC-2025-7KQ4-M9XD",
        language=language,
        family_name="Ó Súilleabháin-Papadopoulou",
        given_names="Marie-Hélène Jean-Baptiste",
        other_names=("Мария Иванова", "ماري صليبا"),
        date_of_birth=date(1988, 11, 23),
        place_of_birth="Saint-Étienne, France",
        nationalities=("FR", "GR", "MA"),
        document_type="Passport",
        document_number="24FR81234",
        document_issuing_country="FR",
        purpose="Employment — working with children",
        issued_on=date(2025, 3, 10),
        expires_on=date(2025, 9, 10),
        countries=tuple(lines),
        verify_url=verify_url,
        base_url=BASE_URL,
        specimen=specimen,
    )


@pytest.fixture(scope="module")
def rendered() -> dict[tuple[str, bool], bytes]:
    """PDF bytes per (language, specimen), rendered once for the module."""
    return {
        (language, specimen): render_certificate_pdf(make_document(language, specimen=specimen))
        for language in LANGUAGES
        for specimen in (False, True)
    }


def page_text(pdf: bytes) -> str:
    document = pdfium.PdfDocument(pdf)
    try:
        return str(document[0].get_textpage().get_text_range())
    finally:
        document.close()


def decode_qr(pdf: bytes) -> tuple[str, float]:
    """Decode the page's QR code; return its text and printed width in mm."""
    document = pdfium.PdfDocument(pdf)
    try:
        image = document[0].render(scale=RENDER_DPI / 72).to_pil()
    finally:
        document.close()
    results = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(results) == 1, f"expected one QR code on the page, found {len(results)}"
    position = results[0].position
    width_px = max(position.top_right.x, position.bottom_right.x) - min(
        position.top_left.x, position.bottom_left.x
    )
    return results[0].text, width_px / RENDER_DPI * MM_PER_INCH


# --- one page -------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("specimen", [False, True])
def test_twenty_countries_fit_on_one_a4_page(
    rendered: dict[tuple[str, bool], bytes], language: str, specimen: bool
) -> None:
    document = pdfium.PdfDocument(rendered[(language, specimen)])
    try:
        assert len(document) == 1
        width, height = document[0].get_size()
        assert (round(width / PT_PER_MM), round(height / PT_PER_MM)) == (210, 297)
    finally:
        document.close()


def test_many_records_still_one_page() -> None:
    many = ("FR", "DE", "ES", "IT", "US", "GB")
    pdf = render_certificate_pdf(make_document(records_in=many))
    assert len(pdfium.PdfDocument(pdf)) == 1


@pytest.mark.parametrize(("language", "records_in"), [("en", ("DE", "US")), ("ar", ("FR", "DE"))])
def test_the_measured_height_agrees_with_the_page_at_every_size(
    language: str, records_in: tuple[str, ...]
) -> None:
    """The text size of a long certificate is chosen by measuring its content; the page,
    laid out for real, must agree at every size on whether it fits."""
    doc = make_document(language, records_in=records_in)
    qr = make_qr(doc.verify_url).matrix
    fits_by_measure = [_story_height(doc, size, qr) <= FRAME_HEIGHT for size in FONT_SIZES]
    fits_on_page = [_render_one_page(doc, size, qr) is not None for size in FONT_SIZES]
    assert fits_by_measure == fits_on_page
    assert not fits_on_page[0]  # the search has something to find
    assert fits_on_page[-1]
    # and the search finds the largest size that fits
    assert _size_by_measure(doc, qr) == fits_on_page.index(True)


def _counting_measures(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The sizes the search measures, in order (each measured for real)."""
    from certificate.issuance import pdf

    measured: list[float] = []
    real = pdf._story_height

    def measure(doc: CertificateDocument, size: float, qr: QrMatrix) -> float:
        measured.append(size)
        return real(doc, size, qr)

    monkeypatch.setattr(pdf, "_story_height", measure)
    monkeypatch.setattr(pdf, "_LAST_FOUND", {})
    return measured


def test_a_certificate_like_the_last_one_is_sized_in_two_measures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    measured = _counting_measures(monkeypatch)
    first = make_document("en", records_in=("DE", "US"))
    qr = make_qr(first.verify_url).matrix
    found = _size_by_measure(first, qr)
    assert found > 0  # below the largest size: a search with something to find
    assert len(measured) > 2
    measured.clear()

    # another holder's certificate of the same shape: the last size, and its neighbour
    second = make_document("en", records_in=("DE", "US"), verify_url=VERIFY_URL + "x")
    assert _size_by_measure(second, make_qr(second.verify_url).matrix) == found
    assert measured == [FONT_SIZES[found], FONT_SIZES[found - 1]]


@pytest.mark.parametrize("hint", [0, 1, 9, len(FONT_SIZES) - 1])
def test_a_wrong_start_costs_measures_but_never_the_size(
    monkeypatch: pytest.MonkeyPatch, hint: int
) -> None:
    from certificate.issuance import pdf

    measured = _counting_measures(monkeypatch)
    doc = make_document("es", records_in=("FR", "DE", "ES", "IT"))
    qr = make_qr(doc.verify_url).matrix
    largest_that_fits = [
        pdf._story_height(doc, size, qr) <= FRAME_HEIGHT for size in FONT_SIZES
    ].index(True)
    assert largest_that_fits not in (0, 1, len(FONT_SIZES) - 1)
    measured.clear()
    pdf._LAST_FOUND[pdf._shape(doc)] = hint
    assert _size_by_measure(doc, qr) == largest_that_fits
    assert len(measured) == len(set(measured))  # no size measured twice


def _pdftotext_pages(pdf: bytes, tmp_path: Path) -> list[str]:
    """Poppler's text of each page (form feeds separate pages)."""
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return [page for page in text.split("\f") if page.strip()]


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
@pytest.mark.parametrize("language", ["en", "ar"])
def test_a_long_certificate_continues_on_numbered_pages(tmp_path: Path, language: str) -> None:
    codes = tuple(code for code, _, _ in COUNTRIES)
    doc = make_document(language, records_in=codes)
    many = tuple(
        CountryLine(**{**line.__dict__, "records": line.records * 3}) for line in doc.countries
    )
    doc = CertificateDocument(
        **{**doc.__dict__, "countries": many * 3}
    )  # 60 countries, 360 records
    pdf = render_certificate_pdf(doc)
    document = pdfium.PdfDocument(pdf)
    try:
        pages = len(document)
        assert pages > 1
        text = [str(document[i].get_textpage().get_text_range()) for i in range(pages)]
    finally:
        document.close()
    poppler = _pdftotext_pages(pdf, tmp_path)
    assert len(poppler) == pages
    page_of = labels(language)["page_of"]
    for number, page in enumerate(poppler, start=1):
        lines = page.splitlines()
        # the number is on one line of every page, never broken
        assert any(doc.certificate_id in line for line in lines), number
        assert page_of.format(page=number, pages=pages) in " ".join(text[number - 1].split())
    every_record = " ".join(" ".join(t.split()) for t in text)
    assert every_record.count("Amtsgericht München") == 60 * 3


# --- QR code --------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_qr_decodes_to_the_verify_url(
    rendered: dict[tuple[str, bool], bytes], language: str
) -> None:
    text, _ = decode_qr(rendered[(language, True)])
    assert text == VERIFY_URL


def test_qr_is_printed_at_least_35_mm_wide(rendered: dict[tuple[str, bool], bytes]) -> None:
    _, width_mm = decode_qr(rendered[("en", False)])
    assert width_mm >= 35
    assert abs(width_mm - QR_SYMBOL_SIZE / PT_PER_MM) < 1.5
    assert QR_SYMBOL_SIZE / PT_PER_MM >= 35


def test_qr_version_of_a_realistic_token_is_at_most_20() -> None:
    qr = make_qr(VERIFY_URL)
    assert qr.version <= MAX_VERSION == 20


def test_qr_uses_the_smallest_version_and_level_m() -> None:
    short = make_qr("https://ipc.example.org/v#abc")
    assert short.error_correction == "M"
    assert short.version == 3  # 29 bytes: too many for version 2-M (26)
    # a run of digits is encoded more densely than bytes: 27 characters fit version 2
    assert make_qr("http://127.0.0.1:5000/v#abc").version == 2


@pytest.mark.parametrize("length", [150, 300, 450, 580])
def test_qr_symbols_are_the_standard_encoding_of_their_content(length: int) -> None:
    """The symbol is, module for module, what another encoder (the pure-Python ``qrcode``
    package) builds for the same content at level M and the same version, with one of
    the eight masks: the mask is the encoder's choice, all else is fixed by ISO 18004.
    (The address has no run of digits: the encoder would give such a run a denser
    segment of its own, where ``qrcode`` keeps one byte segment. The rendered pages'
    codes, with digits, are decoded in the integration tests.)"""
    from qrcode import QRCode
    from qrcode.constants import ERROR_CORRECT_M

    content = f"https://certificates.example.org/v#{jws_like(length)}"
    symbol = make_qr(content)
    fitted = QRCode(error_correction=ERROR_CORRECT_M, border=0)
    fitted.add_data(content, optimize=0)
    fitted.make(fit=True)
    assert symbol.version == fitted.version  # the smallest version that holds it

    def masked(mask: int) -> tuple[tuple[bool, ...], ...]:
        other = QRCode(
            version=symbol.version, error_correction=ERROR_CORRECT_M, border=0, mask_pattern=mask
        )
        other.add_data(content, optimize=0)
        other.make(fit=False)
        return tuple(tuple(bool(m) for m in row) for row in other.get_matrix())

    assert any(masked(mask) == symbol.matrix for mask in range(8))


def test_qr_refuses_content_beyond_version_20() -> None:
    make_qr(f"{BASE_URL}/v#{jws_like(630)}")  # version 20: accepted
    with pytest.raises(ValueError, match="version 20"):
        make_qr(f"{BASE_URL}/v#{jws_like(700)}")  # needs version 21
    with pytest.raises(ValueError, match="version 20"):
        make_qr("x" * 5000)  # beyond any version
    with pytest.raises(ValueError, match="empty"):
        make_qr("")


def test_render_refuses_an_over_long_verify_url() -> None:
    doc = make_document(verify_url=f"{BASE_URL}/v#{jws_like(700)}")
    with pytest.raises(ValueError, match="version 20"):
        render_certificate_pdf(doc)


# --- printed text ---------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_page_shows_number_name_and_title(
    rendered: dict[tuple[str, bool], bytes], language: str
) -> None:
    text = page_text(rendered[(language, False)])
    assert "IPC-2025-7KQ4-M9XD" in text
    assert "Ó Súilleabháin-Papadopoulou" in text
    assert "24FR81234" in text
    assert "SPECIMEN" not in text
    if language != "ar":  # Arabic is extracted in visual (shaped) form
        t = labels(language)
        assert t["title"] in text
        assert outcome_phrase(language, "no_response") in _unwrap(text)
        assert t["verify"].format(base_url=BASE_URL) in _unwrap(text)


@pytest.mark.parametrize("language", LANGUAGES)
def test_specimen_is_marked(rendered: dict[tuple[str, bool], bytes], language: str) -> None:
    text = page_text(rendered[(language, True)])
    assert "SPECIMEN" in text
    if language != "ar":
        assert labels(language)["specimen"] in text


def test_arabic_page_reads_back_as_arabic(rendered: dict[tuple[str, bool], bytes]) -> None:
    # pdfium turns shaped, visually ordered glyphs back into logical text;
    # unshaped or wrongly ordered Arabic would not read back as the title.
    text = page_text(rendered[("ar", False)])
    t = labels("ar")
    assert t["title"] in text
    assert outcome_phrase("ar", "no_record") in text


def test_arabic_lines_are_shaped_reordered_and_mirrored() -> None:
    from certificate.issuance.pdf import SANS, _visual_lines, register_fonts

    register_fonts()
    logical = "عبارة «لا توجد سوابق» (FR)"
    [line] = _visual_lines(logical, SANS, 8, 500, "R")
    assert not any("\u0621" <= c <= "\u064a" for c in line)  # all letters shaped
    assert any("\ufe70" <= c <= "\ufeff" for c in line)  # presentation forms
    assert line.startswith("(FR) ")  # last logical word is leftmost
    assert line.index("«") < line.index("»")  # guillemets mirrored in RTL run
    wrapped = _visual_lines(labels("ar")["statement"], SANS, 8, 150, "R")
    assert len(wrapped) > 3


def test_records_are_listed(rendered: dict[tuple[str, bool], bytes]) -> None:
    text = _unwrap(page_text(rendered[("en", False)]))
    assert "Driving under the influence of alcohol" in text
    assert "Amtsgericht München" in text
    assert "Record found" in text


def _unwrap(text: str) -> str:
    """Join wrapped lines so phrases can be searched across line breaks."""
    return " ".join(text.split())


# --- labels ---------------------------------------------------------------


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown certificate language"):
        labels("de")
    with pytest.raises(ValueError, match="unknown certificate language"):
        render_certificate_pdf(make_document("de"))


def test_every_language_has_every_label() -> None:
    keys = set(labels("en"))
    for language in LANGUAGES:
        assert set(labels(language)) == keys, language
        assert "{base_url}/v" in labels(language)["verify"]


def test_only_no_record_reads_as_clear() -> None:
    en = {outcome: outcome_phrase("en", outcome) for outcome in OUTCOMES}
    assert en["no_record"] == "No record"
    assert "not confirmed" in en["no_response"]
    assert "deadline" in en["no_response"]
    assert "not checked" in en["not_covered"]
    assert "not confirmed" in en["identity_unconfirmed"]
    for language in LANGUAGES:
        clear = outcome_phrase(language, "no_record")
        for outcome in OUTCOMES:
            if outcome != "no_record":
                assert clear not in outcome_phrase(language, outcome), (language, outcome)


def test_unknown_outcome_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown outcome"):
        outcome_phrase("en", "clear")


# --- coverage: uncovered residence periods ----------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_uncovered_periods_are_printed_and_still_fit_one_page(language: str) -> None:
    from certificate.issuance.document import UncoveredLine

    doc = make_document(language)
    uncovered = tuple(
        UncoveredLine(line.country, line.country_name, start, end, line.outcome)
        for line in doc.countries
        if line.outcome in ("no_response", "not_covered", "identity_unconfirmed")
        for start, end in line.periods
    )
    assert len(uncovered) >= 8
    doc = CertificateDocument(**{**doc.__dict__, "uncovered": uncovered, "gap_months": 97})
    pdf = render_certificate_pdf(doc)
    assert len(pdfium.PdfDocument(pdf)) == 1
    text = _unwrap(page_text(pdf))
    if language != "ar":
        assert labels(language)["coverage"] in text
        assert labels(language)["coverage_gap_months"].format(months=97) in text
        assert "2009-09 – 2013-06" in text


def test_gap_months_counts_distinct_months() -> None:
    from certificate.issuance.coverage import UncoveredPeriod, gap_months

    periods = [
        UncoveredPeriod("DE", "2010-01", "2010-12", "not_covered"),
        UncoveredPeriod("NG", "2010-07", "2011-02", "no_response"),  # overlaps 6 months
        UncoveredPeriod("TH", "2024-11", None, "no_response"),
    ]
    assert gap_months(periods[:2]) == 14
    assert gap_months(periods, date(2025, 2, 10)) == 14 + 4
    assert gap_months([]) == 0
