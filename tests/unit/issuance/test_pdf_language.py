"""A certificate speaks its own language: document type, countries, nationalities, dates."""

from __future__ import annotations

import io
import unicodedata
from dataclasses import replace
from datetime import date

import pypdfium2 as pdfium
import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from certificate.issuance.document import CertificateDocument
from certificate.issuance.pdf import render_certificate_pdf
from tests.integration.issuance.test_certificate_languages import document

EXPECTED = {
    # language: (document type, Nigeria, Morocco, date of birth in words)
    "en": ("Passport", "Nigeria", "Morocco", "17 April 1990"),
    "fr": ("Passeport", "Nigeria", "Maroc", "17 avril 1990"),
    "es": ("Pasaporte", "Nigeria", "Marruecos", "17 de abril de 1990"),
    "ar": ("جواز السفر", "نيجيريا", "المغرب", "أبريل"),
}


def text_of(pdf: bytes) -> str:
    pages = pdfium.PdfDocument(pdf)
    try:
        text = " ".join(page.get_textpage().get_text_range() for page in pages)
    finally:
        pages.close()
    return " ".join(unicodedata.normalize("NFKC", text).split())


def holder_only(doc: CertificateDocument) -> CertificateDocument:
    return replace(doc, nationalities=("NG", "MA"), document_issuing_country="NG", notes=())


@pytest.mark.parametrize("language", sorted(EXPECTED))
def test_the_holder_block_is_in_the_certificate_language(language: str) -> None:
    pdf = render_certificate_pdf(holder_only(document(language)))
    text = text_of(pdf)
    document_type, nigeria, morocco, born = EXPECTED[language]
    for expected in (document_type, nigeria, morocco, born, "1990-04-17"):
        assert expected in text, (language, expected)
    if language != "en":
        assert "Passport" not in text
        assert "Morocco" not in text
    assert date(1990, 4, 17).isoformat() in text  # the ISO date stays beside the words


@pytest.mark.parametrize("language", sorted(EXPECTED))
def test_the_pdf_states_its_language_and_shows_its_title(language: str) -> None:
    pdf = render_certificate_pdf(document(language))
    root = PdfFileReader(io.BytesIO(pdf)).root
    assert str(root["/Lang"]) == language
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"]) is True
