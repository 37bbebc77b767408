"""Fonts and text for the certificate PDF: which font draws which character, how
complex scripts are shaped, and what each drawn glyph means to a text extractor.

The fonts ship in ``fonts/`` beside this module (their licences and provenance
in ``fonts/README.md``) and are registered with reportlab once per process
(:func:`register_fonts`, called at start-up by :mod:`certificate.warmup`).

Each character is drawn by the font of its script (:data:`SCRIPT_FACES`);
characters of other scripts take the first font of :data:`FALLBACK` that has
them, and spaces, digits, punctuation and combining marks stay in the font of
the run around them. Text that only DejaVu Sans and Noto Naskh Arabic draw
keeps reportlab's own paragraphs (see :mod:`certificate.issuance.pdf`); any
other text (Hebrew, Indic scripts, Thai, Ethiopic, Han, Kana, Hangul) is laid
out by :class:`ShapedText`: split into bidirectional runs by ICU, shaped by
HarfBuzz (conjuncts, vowel signs before their consonant, mark positioning),
and drawn glyph by glyph. Each drawn line carries its logical text as an
``/ActualText`` span, so that text extractors (``pdftotext``, a viewer's
search and copy) give back exactly the characters of the name, even where the
glyphs are reordered or ligated.

A character that no shipped font has cannot be printed: :func:`unprintable`
finds such characters so that a name holding one is refused at filing.
"""

from __future__ import annotations

import itertools
import re
import threading
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import icu
import uharfbuzz as hb
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable

FONT_DIR = Path(__file__).resolve().parent / "fonts"
SANS = "CertSans"
SANS_BOLD = "CertSans-Bold"
ARABIC = "CertNaskhArabic"
ARABIC_BOLD = "CertNaskhArabic-Bold"
HEBREW = "CertHebrew"
DEVANAGARI = "CertDevanagari"
BENGALI = "CertBengali"
TAMIL = "CertTamil"
THAI = "CertThai"
ETHIOPIC = "CertEthiopic"
CJK = "CertCJK"
_FONT_FILES = {
    SANS: "DejaVuSansCondensed.ttf",
    SANS_BOLD: "DejaVuSansCondensed-Bold.ttf",
    ARABIC: "NotoNaskhArabic-Regular.ttf",
    ARABIC_BOLD: "NotoNaskhArabic-Bold.ttf",
    HEBREW: "NotoSansHebrew-Regular.ttf",
    f"{HEBREW}-Bold": "NotoSansHebrew-Bold.ttf",
    DEVANAGARI: "NotoSansDevanagari-Regular.ttf",
    f"{DEVANAGARI}-Bold": "NotoSansDevanagari-Bold.ttf",
    BENGALI: "NotoSansBengali-Regular.ttf",
    f"{BENGALI}-Bold": "NotoSansBengali-Bold.ttf",
    TAMIL: "NotoSansTamil-Regular.ttf",
    f"{TAMIL}-Bold": "NotoSansTamil-Bold.ttf",
    THAI: "NotoSansThai-Regular.ttf",
    f"{THAI}-Bold": "NotoSansThai-Bold.ttf",
    ETHIOPIC: "NotoSansEthiopic-Regular.ttf",
    f"{ETHIOPIC}-Bold": "NotoSansEthiopic-Bold.ttf",
    # one weight: a second would double the largest font (fonts/README.md)
    CJK: "NotoSansCJKsc-Regular.ttf",
}
#: The face that draws the letters of a script (ICU's script names).
SCRIPT_FACES = {
    "Arabic": ARABIC,
    "Hebrew": HEBREW,
    "Devanagari": DEVANAGARI,
    "Bengali": BENGALI,
    "Tamil": TAMIL,
    "Thai": THAI,
    "Ethiopic": ETHIOPIC,
    "Han": CJK,
    "Hiragana": CJK,
    "Katakana": CJK,
    "Hangul": CJK,
    "Bopomofo": CJK,
}
#: Where a character of any other script is looked for, in this order.
FALLBACK = (SANS, ARABIC, HEBREW, DEVANAGARI, BENGALI, TAMIL, THAI, ETHIOPIC, CJK)
#: Faces that reportlab's own paragraphs draw (DejaVu; Arabic, reshaped beforehand).
PARAGRAPH_FACES = frozenset({SANS, ARABIC})
_NEUTRAL_SCRIPTS = frozenset({"Common", "Inherited", "Unknown"})
#: Bidirectional marks, embeddings and isolates (never drawn, never extracted).
BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_PRIVATE_LOCK = threading.Lock()
_HB_FONTS: dict[str, hb.Font] = {}


def bold_of(face: str) -> str:
    """The bold font of a face (itself where only one weight ships)."""
    bold = SANS_BOLD if face == SANS else f"{face}-Bold"
    return bold if bold in _FONT_FILES else face


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


def _to_unicode_cmap(
    font_name: str, subset: Sequence[int], meanings: dict[int, str] | None = None
) -> str:
    """A ToUnicode CMap like reportlab's, but with Arabic mapped to plain letters, and a
    glyph that no character maps to (a conjunct, a ligature) mapped to what it was drawn for."""
    meanings = meanings or {}
    entries = [
        f"<{code:02X}> <{meanings.get(cp, _logical_unicode(cp)).encode('utf-16-be').hex().upper()}>"
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

    A shaped glyph that no character maps to is drawn through a private-use
    code point (:meth:`char_for`); the map gives it the characters it was
    first drawn for.
    """

    def __init__(self, name: str, filename: str):
        super().__init__(name, filename)
        self.meanings: dict[int, str] = {}
        self._next_private = 0xE000

    def char_for(self, glyph: int, advance: float, meaning: str) -> str:
        """A character that draws ``glyph`` (a private-use one when no character maps to it).

        ``advance`` is the glyph's width in thousandths of the font size.
        """
        chars = self.face.glyphToChar.get(glyph)
        if chars:
            return chr(chars[0])
        with _PRIVATE_LOCK:
            chars = self.face.glyphToChar.get(glyph)
            if chars:
                return chr(chars[0])
            code = self._next_private
            while code in self.face.charToGlyph:
                code += 1
            if code > 0xF8FF:
                raise ValueError(f"{self.fontName}: private-use area exhausted")
            self._next_private = code + 1
            self.face.charToGlyph[code] = glyph
            self.face.glyphToChar[glyph] = [code]
            self.face.charWidths[code] = advance
            self.meanings[code] = meaning
            return chr(code)

    def addObjects(self, doc: Any) -> None:  # noqa: N802 (reportlab's name)
        subsets = [list(subset) for subset in self.state[doc].subsets]  # gone afterwards
        names = [self.getSubsetInternalName(n, doc)[1:] for n in range(len(subsets))]
        super().addObjects(doc)
        fonts = doc.idToObject["BasicFonts"].dict
        for name, subset in zip(names, subsets, strict=True):
            font = fonts[name]
            doc.idToObject[font.ToUnicode.name].content = _to_unicode_cmap(
                str(font.BaseFont), subset, self.meanings
            )


@lru_cache(maxsize=1)
def register_fonts() -> None:
    """Register the bundled TTF fonts with reportlab and HarfBuzz (once per process)."""
    for name, filename in _FONT_FILES.items():
        pdfmetrics.registerFont(_LogicalTTFont(name, str(FONT_DIR / filename)))
        _HB_FONTS[name] = hb.Font(hb.Face(hb.Blob((FONT_DIR / filename).read_bytes())))
    pdfmetrics.registerFontFamily(SANS, normal=SANS, bold=SANS_BOLD)
    pdfmetrics.registerFontFamily(ARABIC, normal=ARABIC, bold=ARABIC_BOLD)


# --------------------------------------------------------------------------
# Which font draws which character


def _font(name: str) -> _LogicalTTFont:
    register_fonts()
    font = pdfmetrics.getFont(name)
    assert isinstance(font, _LogicalTTFont)  # noqa: S101 - registered above
    return font


def _covers(face: str, char: str) -> bool:
    return bool(_font(face).face.charToGlyph.get(ord(char)))


@lru_cache(maxsize=4096)
def _script(char: str) -> str:
    return str(icu.Script.getScript(ord(char)).getName())


@lru_cache(maxsize=8192)
def face_for(char: str, current: str | None = None) -> str | None:
    """The (regular) face that draws ``char``, None when no shipped font has it.

    ``current`` is the face of the run the character follows: spaces, digits,
    punctuation and combining marks stay in it when it has them.
    """
    script = _script(char)
    own = SCRIPT_FACES.get(script)
    if own and _covers(own, char):
        return own
    if current and script in _NEUTRAL_SCRIPTS and _covers(current, char):
        return current
    for face in FALLBACK:
        if _covers(face, char):
            return face
    return None


def _ignorable(char: str) -> bool:
    """Characters that are not drawn: spaces, joiners, bidirectional controls."""
    return char.isspace() or unicodedata.category(char) == "Cf"


def unprintable(text: str) -> list[str]:
    """The characters of ``text`` that no shipped font can draw (in order, once each)."""
    missing: list[str] = []
    for char in text:
        if not _ignorable(char) and face_for(char) is None and char not in missing:
            missing.append(char)
    return missing


def _font_runs(text: str) -> list[tuple[str, str]]:
    """``text`` as (chunk, regular face) runs, in logical order."""
    runs: list[tuple[str, str]] = []
    for char in text:
        current = runs[-1][1] if runs else None
        face = face_for(char, current) or current or SANS
        # joiners and bidirectional controls belong to the run they sit in (never drawn)
        if runs and (face == current or unicodedata.category(char) == "Cf"):
            runs[-1] = (runs[-1][0] + char, runs[-1][1])
        else:
            runs.append((char, face))
    return runs


def needs_shaping(text: str) -> bool:
    """True when ``text`` holds a character that reportlab's paragraphs cannot draw
    (one that only a font of :data:`SCRIPT_FACES` outside DejaVu and Naskh has)."""
    return any(face not in PARAGRAPH_FACES for _, face in _font_runs(text))


# --------------------------------------------------------------------------
# Shaping


@dataclass(frozen=True)
class _Glyph:
    glyph: int
    advance: float  # thousandths of the font size, like the offsets
    x_offset: float
    y_offset: float
    meaning: str  # the characters of its cluster


@dataclass(frozen=True)
class _Run:
    font: str  # reportlab font name
    glyphs: tuple[_Glyph, ...]

    @property
    def width(self) -> float:
        return sum(g.advance for g in self.glyphs)


@lru_cache(maxsize=2048)
def _shape(text: str, font_name: str, rtl: bool) -> _Run:
    """HarfBuzz's glyphs for ``text`` in one font and direction, in visual order."""
    register_fonts()
    hb_font = _HB_FONTS[font_name]
    scale = 1000 / hb_font.face.upem
    buffer = hb.Buffer()
    buffer.add_codepoints([ord(char) for char in text])  # clusters: indices into text
    buffer.guess_segment_properties()
    buffer.direction = "rtl" if rtl else "ltr"
    buffer.flags = hb.BufferFlags.REMOVE_DEFAULT_IGNORABLES
    hb.shape(hb_font, buffer, {"kern": True, "liga": True})
    infos, positions = buffer.glyph_infos, buffer.glyph_positions
    clusters = sorted({info.cluster for info in infos} | {len(text)})
    ends = dict(itertools.pairwise(clusters))
    glyphs = tuple(
        _Glyph(
            glyph=info.codepoint,
            advance=position.x_advance * scale,
            x_offset=position.x_offset * scale,
            y_offset=position.y_offset * scale,
            meaning=text[info.cluster : ends[info.cluster]],
        )
        for info, position in zip(infos, positions, strict=True)
    )
    return _Run(font_name, glyphs)


def _utf16_to_index(text: str) -> list[int]:
    """For each UTF-16 offset into ``text`` (as ICU counts), the Python index."""
    index = []
    for position, char in enumerate(text):
        index += [position] * (2 if ord(char) > 0xFFFF else 1)
    return [*index, len(text)]


@dataclass(frozen=True)
class _BidiRun:
    """One directional run of a line: its logical text and its shaped font runs."""

    text: str
    rtl: bool
    runs: tuple[_Run, ...]  # in visual order

    @property
    def width(self) -> float:
        return sum(run.width for run in self.runs)

    @property
    def extracted(self) -> str:
        """The run's text in the order extractors expect it: they read glyphs left to
        right and reverse each right-to-left run themselves (poppler, pdfium)."""
        text = BIDI_CONTROLS.sub("", self.text)
        return text[::-1] if self.rtl else text


def _bidi_runs(line: str, bold: bool, base_dir: str | None) -> list[_BidiRun]:
    """One logical line as directional runs in visual (left-to-right drawing) order."""
    bidi = icu.Bidi()
    level = {"L": 0, "R": 1}.get(base_dir or "", icu.Bidi.DEFAULT_LTR)
    ustring = icu.UnicodeString(line)  # ICU reads it while the runs are read: keep it
    bidi.setPara(ustring, level)
    index = _utf16_to_index(line)
    runs: list[_BidiRun] = []
    for n in range(bidi.countRuns()):
        start, length, direction = bidi.getVisualRun(n)
        chunk = line[index[start] : index[start + length]]
        rtl = direction == 1
        pieces = [
            _shape(text, bold_of(face) if bold else face, rtl) for text, face in _font_runs(chunk)
        ]
        runs.append(_BidiRun(chunk, rtl, tuple(reversed(pieces) if rtl else pieces)))
    return runs


def _width(line: str, bold: bool, base_dir: str | None) -> float:
    """Width of a logical line, in thousandths of the font size."""
    return sum(run.width for run in _bidi_runs(line, bold, base_dir))


def _breaks(text: str, kind: str) -> Iterator[str]:
    """``text`` cut where a line may break (``line``) or between characters as
    the reader sees them (``character``), by ICU's rules."""
    iterator = (
        icu.BreakIterator.createLineInstance(icu.Locale.getRoot())
        if kind == "line"
        else icu.BreakIterator.createCharacterInstance(icu.Locale.getRoot())
    )
    iterator.setText(text)
    index = _utf16_to_index(text)
    start = 0
    for end in iterator:
        yield text[index[start] : index[end]]
        start = end


def wrap_lines(text: str, bold: bool, base_dir: str | None, width: float) -> list[str]:
    """Logical ``text`` cut into lines no wider than ``width`` (thousandths of the font
    size); newlines always break, and a word wider than a line is cut between characters."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        pieces = list(_breaks(paragraph, "line"))
        while pieces:
            piece = pieces.pop(0)
            candidate = current + piece
            if _width(candidate.rstrip(), bold, base_dir) <= width:
                current = candidate
            elif current:
                lines.append(current.rstrip())
                current = ""
                pieces.insert(0, piece)
            else:  # one word wider than the line
                graphemes = list(_breaks(piece, "character"))
                fitted = graphemes.pop(0)
                while graphemes and _width(fitted + graphemes[0], bold, base_dir) <= width:
                    fitted += graphemes.pop(0)
                lines.append(fitted)
                if graphemes:
                    pieces.insert(0, "".join(graphemes))
        lines.append(current.rstrip())
    return lines


def _actual_text(text: str) -> str:
    return "<FEFF" + text.encode("utf-16-be").hex().upper() + ">"


class ShapedText(Flowable):
    """A paragraph in any script, shaped by HarfBuzz and drawn glyph by glyph.

    Takes the font, size, leading, colour and alignment of ``style`` (its
    font a regular or bold one of the certificate's sans face); ``base_dir``
    is ``"L"``, ``"R"`` or None (from the first strong character).
    """

    def __init__(self, text: str, style: ParagraphStyle, base_dir: str | None):
        super().__init__()
        self.text = text
        self.style = style
        self.base_dir = base_dir
        self.bold = style.fontName == SANS_BOLD
        self.lines: list[str] = []

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        size = self.style.fontSize
        self.lines = wrap_lines(self.text, self.bold, self.base_dir, availWidth * 1000 / size)
        self.width = availWidth
        self.height = self.style.leading * len(self.lines)
        return self.width, self.height

    def draw(self) -> None:
        canvas, style = self.canv, self.style
        size = style.fontSize / 1000
        canvas.saveState()
        canvas.setFillColor(style.textColor)
        for number, line in enumerate(self.lines):
            bidi_runs = _bidi_runs(line, self.bold, self.base_dir)
            width = sum(run.width for run in bidi_runs) * size
            x = 0.0
            if style.alignment == TA_RIGHT:
                x = self.width - width
            elif style.alignment == TA_CENTER:
                x = (self.width - width) / 2
            y = self.height - style.fontSize - number * style.leading
            for bidi_run in bidi_runs:
                # the glyphs are drawn reordered and ligated: the span says what they read as
                canvas.addLiteral(f"/Span <</ActualText {_actual_text(bidi_run.extracted)}>> BDC")
                text = canvas.beginText()
                for run in bidi_run.runs:
                    font = _font(run.font)
                    text.setFont(run.font, style.fontSize)
                    for glyph in run.glyphs:
                        char = font.char_for(glyph.glyph, glyph.advance, glyph.meaning)
                        text.setTextOrigin(x + glyph.x_offset * size, y + glyph.y_offset * size)
                        text.textOut(char)
                        x += glyph.advance * size
                canvas.drawText(text)
                canvas.addLiteral("EMC")
        canvas.restoreState()
