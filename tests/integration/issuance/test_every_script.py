"""A name in any living script prints whole on the certificate and reads back exactly.

Certificates are issued through the real filing path (the API, the sandbox
agencies, the issuance sweep) for names in thirteen scripts. Each PDF is
then read by independent tools:

* poppler's ``pdftotext`` must give back each name exactly (compared in NFC,
  after removing the bidi controls poppler wraps around right-to-left runs);
* every glyph drawn is checked not to be ``.notdef`` (the empty box a font
  draws for a character it lacks): the page's content stream is parsed with
  pikepdf, and each code drawn by ``Tj``/``TJ`` is looked up in the embedded
  font program's own code-to-glyph table with fontTools. That the check
  catches a box is shown on a name holding a character no font has, rendered
  by the renderer directly (filing refuses such a name).

PNGs of a few certificates (pdfium) go to ``artifacts/certificates/``
(git-ignored) for a person to look at.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import unicodedata
from dataclasses import replace
from pathlib import Path
from typing import Any

import pikepdf
import pypdfium2 as pdfium
import pytest
from flask import Flask
from flask.testing import FlaskClient
from fontTools.ttLib import TTFont

from certificate.issuance.document import CertificateDocument
from certificate.issuance.pdf import render_certificate_pdf
from tests.conftest import application_body, drain
from tests.integration.web.test_pages import count_applications, form_data, signup
from tests.unit.issuance.test_pdf import make_document

PDFTOTEXT = shutil.which("pdftotext")
ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts" / "certificates"

#: (family name, given names) in each script; Hebrew with its points, Kana with Han.
NAMES = {
    "latin": ("Łukasiewicz-Ðorđević", "Zoë Ångström"),
    "cyrillic": ("Иванова", "Жанна Юрьевна"),
    "greek": ("Παπαδοπούλου", "Ελένη"),
    "arabic": ("عبد الله", "محمد"),
    "hebrew": ("כהן", "שׁוֹשַׁנָּה"),
    "devanagari": ("क्षत्रिय", "किशोर"),
    "bengali": ("ঠাকুর", "রবীন্দ্রনাথ"),
    "tamil": ("ரெட்டி", "லட்சுமி"),
    "thai": ("ใจดี", "สมชาย"),
    "han": ("王", "小明"),
    "kana": ("やまだ", "タロウ"),
    "hangul": ("김", "민준"),
    "ethiopic": ("ቢቂላ", "አበበ"),
}
#: The certificates kept as pictures.
PICTURED = ("devanagari", "tamil", "han", "hebrew", "ethiopic")
#: Bidi controls poppler wraps around right-to-left runs.
_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")

needs_pdftotext = pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (poppler-utils) missing")


def pdftotext(pdf: bytes, tmp_path: Path) -> str:
    """The text poppler extracts, bidi controls removed, in NFC."""
    assert PDFTOTEXT is not None
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(
        [PDFTOTEXT, "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True
    )
    return unicodedata.normalize("NFC", _CONTROLS.sub("", result.stdout))


def has_word(text: str, name: str) -> bool:
    """``name`` occurs in ``text`` as a whole (whitespace or the text's ends around it)."""
    return re.search(rf"(?:^|\s){re.escape(name)}(?:\s|$)", text) is not None


def drawn_notdefs(pdf: bytes) -> list[tuple[int, str, int]]:
    """Every glyph drawn as .notdef: (page, font, code); text in an unembedded font too."""
    found: list[tuple[int, str, int]] = []
    with pikepdf.open(io.BytesIO(pdf)) as document:
        for number, page in enumerate(document.pages, 1):
            fonts = page.Resources.get("/Font", {})
            tables: dict[str, tuple[str, dict[int, bool]] | None] = {}
            current: tuple[str, dict[int, bool]] | None = None
            for operands, operator in pikepdf.parse_content_stream(page):
                op = str(operator)
                if op == "Tf":
                    name = str(operands[0])
                    if name not in tables:
                        tables[name] = _code_to_glyph(fonts[name])
                    current = tables[name]
                elif op in ("Tj", "TJ", "'", '"'):
                    strings = operands[0] if op == "TJ" else operands[-1:]
                    for string in strings:
                        if not isinstance(string, pikepdf.String):
                            continue  # a TJ spacing number
                        for code in bytes(string):
                            if current is None:
                                found.append((number, "(not embedded)", code))
                            elif not current[1].get(code, False):
                                found.append((number, current[0], code))
    return found


def _code_to_glyph(font: Any) -> tuple[str, dict[int, bool]] | None:
    """An embedded simple TrueType font: for each code, whether it draws a real glyph
    (not .notdef); None when the font is not embedded."""
    if "/FontDescriptor" not in font or "/FontFile2" not in font.FontDescriptor:
        return None
    program = TTFont(io.BytesIO(font.FontDescriptor.FontFile2.read_bytes()))
    notdef = program.getGlyphOrder()[0]
    codes = program["cmap"].getcmap(1, 0).cmap  # the (1, 0) table reportlab's subsets carry
    return str(font.BaseFont), {code: glyph != notdef for code, glyph in codes.items()}


def _issue(app: Flask, client: FlaskClient, auth: dict[str, str]) -> dict[str, bytes]:
    filed = {}
    for script, (family, given) in NAMES.items():
        body = application_body(family)
        body["applicant"]["given_names"] = given
        # the passport's Latin form (not derived for every script)
        body["applicant"]["latin_name"] = {"family_name": "HOLDER", "given_names": script.upper()}
        response = client.post("/api/v1/applications", json=body, headers=auth)
        assert response.status_code == 201, (script, response.get_json())
        filed[script] = response.get_json()["id"]
    drain(app)
    pdfs = {}
    for script, application_id in filed.items():
        body = client.get(f"/api/v1/applications/{application_id}", headers=auth).get_json()
        pdfs[script] = client.get(body["certificate"]["pdf_url"], headers=auth).data
    return pdfs


@needs_pdftotext
def test_names_in_thirteen_scripts_print_whole_and_read_back_exactly(
    app: Flask, client: FlaskClient, auth: dict[str, str], tmp_path: Path
) -> None:
    pdfs = _issue(app, client, auth)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for script, pdf in pdfs.items():
        text = pdftotext(pdf, tmp_path)
        for name in NAMES[script]:
            assert has_word(text, unicodedata.normalize("NFC", name)), (script, name, text)
        assert drawn_notdefs(pdf) == [], script
        if script in PICTURED:
            page = pdfium.PdfDocument(pdf)[0]
            page.render(scale=150 / 72).to_pil().save(ARTIFACTS / f"script-{script}.png")
    assert all((ARTIFACTS / f"script-{script}.png").stat().st_size > 0 for script in PICTURED)


def _document(family_name: str, language: str = "en") -> CertificateDocument:
    return replace(make_document(language), family_name=family_name)


@pytest.mark.parametrize(
    "name",
    [
        "Ok\U00012000for",  # a cuneiform sign inside a Latin name (DejaVu's run)
        "क\U00012000",  # inside a Devanagari run
        "山田 \U00020000",  # a CJK extension B ideograph (not in the shipped subset)
    ],
)
def test_the_notdef_check_catches_a_character_no_font_has(name: str) -> None:
    notdefs = drawn_notdefs(render_certificate_pdf(_document(name)))
    assert len(notdefs) == 1, notdefs


def test_a_certificate_in_arabic_for_a_name_in_another_script_has_no_box(tmp_path: Path) -> None:
    pdf = render_certificate_pdf(replace(_document("किशोर", language="ar"), given_names="王小明"))
    assert drawn_notdefs(pdf) == []
    if PDFTOTEXT is not None:
        text = pdftotext(pdf, tmp_path)
        assert has_word(text, "किशोर")
        assert has_word(text, "王小明")


UNPRINTABLE = "Ok\U00012000for"


def test_a_name_no_font_can_print_is_refused_by_the_api(
    app: Flask, client: FlaskClient, auth: dict[str, str]
) -> None:
    body = application_body()
    body["applicant"]["given_names"] = "山田 \U00020000"
    body["applicant"]["place_of_birth"]["city"] = UNPRINTABLE
    response = client.post("/api/v1/applications", json=body, headers=auth)
    assert response.status_code == 400
    fields = response.get_json()["error"]["fields"]
    for path in ("applicant.given_names", "applicant.place_of_birth.city"):
        assert "cannot be printed on a certificate" in fields[path], fields
    assert count_applications(app) == 0


def test_a_name_no_font_can_print_is_refused_by_the_form_in_the_page_language(
    app: Flask, client: FlaskClient
) -> None:
    signup(client)
    client.get("/applications/new?lang=fr")  # the language chosen is kept for the session
    response = client.post("/applications/new", data=form_data(family_name=UNPRINTABLE))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "family_name-error" in html
    assert "ne peut pas être imprimé sur un certificat" in html
    assert count_applications(app) == 0


@needs_pdftotext
def test_an_arabic_certificate_names_the_document_issuer_in_arabic(tmp_path: Path) -> None:
    document = replace(make_document("ar"), document_type="passport", document_issuing_country="FR")
    text = pdftotext(render_certificate_pdf(document), tmp_path)
    lines = text.splitlines()
    at = next(n for n, line in enumerate(lines) if "24FR81234" in line)
    assert "جواز السفر" in lines[at]  # passport
    assert "فرنسا" in lines[at + 1]  # France, in Arabic, on the line below
    assert "FR)" not in lines[at] + lines[at + 1]
    assert "(FR" not in lines[at] + lines[at + 1]
