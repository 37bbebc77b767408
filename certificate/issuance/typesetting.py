"""Fonts and text for the certificate PDF: which font draws which character, and
what each drawn glyph means to a text extractor.

The fonts ship in ``fonts/`` beside this module (their licences beside them)
and are registered with reportlab once per process (:func:`register_fonts`,
called at start-up by :mod:`certificate.warmup`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_DIR = Path(__file__).resolve().parent / "fonts"
SANS = "CertSans"
SANS_BOLD = "CertSans-Bold"
ARABIC = "CertNaskhArabic"
ARABIC_BOLD = "CertNaskhArabic-Bold"
_FONT_FILES = {
    SANS: "DejaVuSansCondensed.ttf",
    SANS_BOLD: "DejaVuSansCondensed-Bold.ttf",
    ARABIC: "NotoNaskhArabic-Regular.ttf",
    ARABIC_BOLD: "NotoNaskhArabic-Bold.ttf",
}


#: A right-to-left letter (Hebrew, Arabic and their presentation forms).
RTL_CHAR = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")

#: Arabic presentation forms (the shaped letters and ligatures the page draws).
_PRESENTATION_FORM = re.compile("[\ufb50-\ufdff\ufe70-\ufefe]")


def _logical_unicode(code_point: int) -> str:
    """What a drawn character means: presentation forms map back to plain letters.

    ``ﺷ`` (initial sheen) means ``ش``. A ligature of several letters, such as
    ``ﻻ`` (lam-alef), is given in the order the glyph shows them, right to
    left (``ال``): extractors read the glyphs of a line in visual order and
    reverse each right-to-left run character by character, ligatures
    included, so this order comes out as the logical ``لا`` (checked with
    poppler's pdftotext and with pdfium).
    """
    char = chr(code_point)
    if not _PRESENTATION_FORM.match(char):
        return char
    letters = unicodedata.normalize("NFKC", char).strip() or char
    if len(letters) > 1 and all(RTL_CHAR.match(c) for c in letters):
        letters = letters[::-1]
    return letters


def _to_unicode_cmap(font_name: str, subset: Sequence[int]) -> str:
    """A ToUnicode CMap like reportlab's, but with Arabic mapped to plain letters."""
    entries = [
        f"<{code:02X}> <{_logical_unicode(cp).encode('utf-16-be').hex().upper()}>"
        for code, cp in enumerate(subset)
    ]
    return "\n".join(
        [
            "/CIDInit /ProcSet findresource begin",
            "12 dict begin",
            "begincmap",
            "/CIDSystemInfo",
            f"<< /Registry ({font_name})",
            f"/Ordering ({font_name})",
            "/Supplement 0",
            ">> def",
            f"/CMapName /{font_name} def",
            "/CMapType 2 def",
            "1 begincodespacerange",
            f"<00> <{len(subset) - 1:02X}>",
            "endcodespacerange",
            f"{len(subset)} beginbfchar",
            *entries,
            "endbfchar",
            "endcmap",
            "CMapName currentdict /CMap defineresource pop",
            "end",
            "end",
        ]
    )


class _LogicalTTFont(TTFont):
    """A TrueType font whose text layer gives plain Arabic letters, not shaped forms.

    Arabic is drawn as presentation forms (the shaped glyphs, in visual
    order). reportlab's ToUnicode map would hand those code points to text
    extractors, so ``pdftotext`` and a viewer's search would see ``ﺷﻬﺎﺩﺓ``
    instead of ``شهادة``. This font rewrites each subset's map so a shaped
    glyph means its letter; extractors (poppler, pdfium) already put the
    right-to-left runs back into logical order.
    """

    def addObjects(self, doc: Any) -> None:  # noqa: N802 (reportlab's name)
        subsets = [list(subset) for subset in self.state[doc].subsets]  # gone afterwards
        names = [self.getSubsetInternalName(n, doc)[1:] for n in range(len(subsets))]
        super().addObjects(doc)
        fonts = doc.idToObject["BasicFonts"].dict
        for name, subset in zip(names, subsets, strict=True):
            font = fonts[name]
            doc.idToObject[font.ToUnicode.name].content = _to_unicode_cmap(
                str(font.BaseFont), subset
            )


@lru_cache(maxsize=1)
def register_fonts() -> None:
    """Register the bundled TTF fonts with reportlab (idempotent)."""
    for name, filename in _FONT_FILES.items():
        pdfmetrics.registerFont(_LogicalTTFont(name, str(FONT_DIR / filename)))
    pdfmetrics.registerFontFamily(SANS, normal=SANS, bold=SANS_BOLD)
    pdfmetrics.registerFontFamily(ARABIC, normal=ARABIC, bold=ARABIC_BOLD)
