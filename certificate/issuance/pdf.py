"""Render a :class:`CertificateDocument` as an A4 PDF (one page when it fits).

Layout, top to bottom: an optional SPECIMEN banner, the title with the
certificate number and dates, the holder's identity beside the verification
QR code, a short statement of what the certificate does and does not say,
and the table of countries with any records under their country. The page is
mirrored for right-to-left languages.

A certificate is one page when it can be: the renderer tries decreasing text
sizes until everything fits. A longer one (many countries, many records)
continues on further pages at a readable size; every page carries the
certificate number and "page n of m" in its footer, and nothing is dropped.

Text in any script goes through :class:`_Text`. Text that DejaVu Sans and
Noto Naskh Arabic draw (the labels of every language, most data) becomes a
reportlab paragraph: Arabic shaped by ``arabic-reshaper``, mixed-direction
lines reordered (``python-bidi``), Arabic runs in the Arabic font. Any other
text (a name in Devanagari, Thai, Han, ...) is laid out and shaped by
:class:`certificate.issuance.typesetting.ShapedText`. The fonts, and what
each drawn glyph means to a text extractor, are that module's.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from xml.sax.saxutils import escape

import arabic_reshaper
from bidi import get_display
from bidi.mirror import MIRRORED
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    PageTemplate,
    Paragraph,
    Spacer,
    TableStyle,
)
from reportlab.platypus.doctemplate import LayoutError

from certificate.i18n import cldr
from certificate.i18n.words import DOCUMENT_TYPES
from certificate.i18n.words import word as enum_word
from certificate.issuance.document import CertificateDocument, CountryLine, UncoveredLine
from certificate.issuance.i18n import (
    RTL_LANGUAGES,
    category_words,
    country_name,
    labels,
    outcome_phrase,
)
from certificate.issuance.qr import QrMatrix, make_qr
from certificate.issuance.summary import content_verdict, summary_sentence
from certificate.issuance.tagging import (
    Element,
    Structure,
    Table,
    artifact,
    script_language,
    write_structure,
)
from certificate.issuance.typesetting import (
    ARABIC,
    ARABIC_BOLD,
    BIDI_CONTROLS,
    RTL_CHAR,
    SANS,
    SANS_BOLD,
    ShapedText,
    needs_shaping,
    register_fonts,
)

# --------------------------------------------------------------------------
# Layout constants (points unless named otherwise)

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_X = 14 * mm
MARGIN_TOP = 11 * mm
MARGIN_BOTTOM = 14 * mm
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN_X
FRAME_HEIGHT = PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM

#: Printed width of the QR symbol itself, quiet zone excluded.
QR_SYMBOL_SIZE = 40 * mm
#: White margin around the symbol, in modules (the QR standard asks for 4).
QR_QUIET_MODULES = 4
QR_COLUMN_WIDTH = 47 * mm

#: Base text sizes, largest first: the largest that fits one page is used.
FONT_SIZES = tuple(x / 4 for x in range(34, 19, -1))  # 8.5 down to 5.0 pt
#: The text size of a certificate too long for one page (it takes as many as it needs).
MULTI_PAGE_SIZE = 7.5

INK = colors.HexColor("#1A1A1A")
NAVY = colors.HexColor("#1F3A5F")
MUTED = colors.HexColor("#5A6270")
RULE = colors.HexColor("#B8C0CC")
SHADE = colors.HexColor("#EEF1F5")
SPECIMEN_RED = colors.HexColor("#B3261E")
OUTCOME_COLOURS = {
    "no_record": colors.HexColor("#1E6B34"),
    "record_found": colors.HexColor("#A11D1D"),
    "identity_unconfirmed": colors.HexColor("#8A4B00"),
    "no_response": colors.HexColor("#8A4B00"),
    "failed": colors.HexColor("#8A4B00"),
    "not_covered": colors.HexColor("#5A6270"),
}

#: The summary's colour, by content verdict (certificate.issuance.summary).
SUMMARY_COLOURS = {
    "record_found": "record_found",
    "not_confirmed": "no_response",
    "no_record": "no_record",
}

# --------------------------------------------------------------------------
# Bidirectional text

_ARABIC_RUN = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]+")
LRI, FSI, PDI = "\u2066", "\u2068", "\u2069"
#: Naskh letters look small beside Latin at the same size; enlarge them a bit.
ARABIC_SCALE = 1.1


def _arabic_font(font_name: str) -> str:
    return ARABIC_BOLD if font_name == SANS_BOLD else ARABIC


def _runs(text: str, font_name: str) -> list[tuple[str, str]]:
    """Split visual ``text`` into (chunk, font) runs, Arabic in its own font."""
    runs: list[tuple[str, str]] = []
    pos = 0
    for match in _ARABIC_RUN.finditer(text):
        if match.start() > pos:
            runs.append((text[pos : match.start()], font_name))
        runs.append((match.group(), _arabic_font(font_name)))
        pos = match.end()
    if pos < len(text):
        runs.append((text[pos:], font_name))
    return runs


def _width(text: str, font_name: str, size: float) -> float:
    text = BIDI_CONTROLS.sub("", text)
    return sum(
        pdfmetrics.stringWidth(chunk, font, size if font == font_name else size * ARABIC_SCALE)
        for chunk, font in _runs(text, font_name)
    )


def _markup(text: str, font_name: str, size: float) -> str:
    """Paragraph markup for visual ``text``: escaped, Arabic runs re-fonted."""
    text = BIDI_CONTROLS.sub("", text)
    parts = []
    for chunk, font in _runs(text, font_name):
        chunk = escape(chunk)
        if font != font_name:
            chunk = f'<font name="{font}" size="{size * ARABIC_SCALE:.2f}">{chunk}</font>'
        parts.append(chunk)
    return "".join(parts)


def _visual_lines(
    text: str, font_name: str, size: float, width: float, base_dir: str | None
) -> list[str]:
    """Wrap logical ``text`` to ``width``, then reorder each line for display."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        shaped = arabic_reshaper.reshape(paragraph)
        current = ""
        for word in shaped.split(" "):
            candidate = f"{current} {word}" if current else word
            if current and _width(candidate, font_name, size) > width:
                lines.append(current)
                current = word
            else:
                current = candidate
        lines.append(current)
    return [_reorder(line, base_dir) for line in lines]


_LEVEL = re.compile(r"Level\(\s*(\d+)")


def _reorder(line: str, base_dir: str | None) -> str:
    """Reorder one logical line for display, mirroring brackets in RTL runs.

    python-bidi's Rust core resolves levels (isolates included) but does not
    mirror ``(``, ``«`` and the like (rule L4), so the resolved levels are
    read from its debug output and rules L2 and L4 applied here.
    """
    debug = str(get_display(line, base_dir=base_dir, debug=True))
    end = debug.rfind("paragraphs:")
    byte_levels = [int(n) for n in _LEVEL.findall(debug, debug.rfind("levels:", 0, end), end)]
    if len(byte_levels) != len(line.encode("utf-8")):
        return str(get_display(line, base_dir=base_dir))  # unexpected format
    levels, offset = [], 0
    for char in line:
        levels.append(byte_levels[offset])
        offset += len(char.encode("utf-8"))
    chars = [MIRRORED.get(c, c) if level % 2 else c for c, level in zip(line, levels, strict=True)]
    odd = [level for level in levels if level % 2]
    if not odd:
        return "".join(chars)
    for level in range(max(levels), min(odd) - 1, -1):
        start = 0
        while start < len(chars):
            if levels[start] < level:
                start += 1
                continue
            stop = start
            while stop < len(chars) and levels[stop] >= level:
                stop += 1
            chars[start:stop] = chars[start:stop][::-1]
            levels[start:stop] = levels[start:stop][::-1]
            start = stop
    return "".join(chars)


class _Text(Flowable):
    """A paragraph of text in any script and direction.

    ``base_dir`` is ``"R"`` for right-to-left text (Arabic labels), ``"L"``
    for left-to-right, or ``None`` to take the direction from the first
    strong character (data values such as names). Newlines break lines.
    """

    def __init__(self, text: str, style: ParagraphStyle, base_dir: str | None):
        super().__init__()
        self.text = text
        self.style = style
        self.base_dir = base_dir
        self._para: Flowable | None = None
        # a table wraps each cell several times: the paragraph is built once, and again
        # only for another width when its lines are ordered by hand (right-to-left text)
        self._built_for: float | None = None
        self._shaped = needs_shaping(text)
        self._by_width = not self._shaped and not (
            base_dir_is_ltr(base_dir) and not RTL_CHAR.search(text)
        )

    def _build(self, avail_width: float) -> Flowable:
        if self._shaped:
            return ShapedText(self.text, self.style, self.base_dir)
        if not self._by_width:
            markup = "<br/>".join(
                _markup(line, self.style.fontName, self.style.fontSize)
                for line in self.text.split("\n")
            )
        else:
            lines = _visual_lines(
                self.text,
                self.style.fontName,
                self.style.fontSize,
                avail_width - 1,
                self.base_dir,
            )
            markup = "<br/>".join(
                _markup(line, self.style.fontName, self.style.fontSize) for line in lines
            )
        return Paragraph(markup, self.style)

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        if self._para is None or (self._by_width and self._built_for != availWidth):
            self._para, self._built_for = self._build(availWidth), availWidth
        width, height = self._para.wrap(availWidth, availHeight)
        self.width, self.height = width, height
        return width, height

    def draw(self) -> None:
        if self._para is None:
            raise RuntimeError("wrap() must run before draw()")
        self._para.drawOn(self.canv, 0, 0)


def base_dir_is_ltr(base_dir: str | None) -> bool:
    """True unless the text is laid out with a right-to-left base direction."""
    return base_dir != "R"


# --------------------------------------------------------------------------
# QR code


class _QrCode(Flowable):
    """The verification QR code, drawn as vector modules on a white square."""

    def __init__(self, matrix: QrMatrix, symbol_size: float = QR_SYMBOL_SIZE):
        super().__init__()
        self.matrix = matrix
        self.module = symbol_size / len(self.matrix)
        self.quiet = QR_QUIET_MODULES * self.module
        self.width = self.height = symbol_size + 2 * self.quiet

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        return self.width, self.height

    def draw(self) -> None:
        canvas, n, m = self.canv, len(self.matrix), self.module
        canvas.saveState()
        canvas.setFillColor(colors.white)
        canvas.rect(0, 0, self.width, self.height, fill=1, stroke=0)
        canvas.setFillColor(colors.black)
        path = canvas.beginPath()
        for r, row in enumerate(self.matrix):
            y = self.quiet + (n - 1 - r) * m
            c = 0
            while c < n:
                if not row[c]:
                    c += 1
                    continue
                start = c
                while c < n and row[c]:
                    c += 1
                path.rect(self.quiet + start * m, y, (c - start) * m, m)
        canvas.drawPath(path, fill=1, stroke=0)
        canvas.restoreState()


# --------------------------------------------------------------------------
# Styles


@dataclass(frozen=True)
class _Styles:
    """Paragraph styles for one base text size and direction."""

    base: float
    rtl: bool

    def make(
        self,
        scale: float = 1.0,
        bold: bool = False,
        colour: colors.Color = INK,
        leading: float = 1.22,
    ) -> ParagraphStyle:
        size = round(self.base * scale, 2)
        return ParagraphStyle(
            name=f"s{size}{bold}",
            fontName=SANS_BOLD if bold else SANS,
            fontSize=size,
            leading=round(size * leading, 2),
            textColor=colour,
            alignment=TA_RIGHT if self.rtl else TA_LEFT,
        )

    @property
    def end_alignment(self) -> int:
        """Alignment of text that sits at the far edge of the reading line."""
        return TA_LEFT if self.rtl else TA_RIGHT


# --------------------------------------------------------------------------
# Building blocks


class _Builder:
    """Builds the flowables of one certificate at one base text size."""

    def __init__(self, doc: CertificateDocument, base_size: float, qr: QrMatrix):
        self.doc = doc
        self.qr = qr
        self.rtl = doc.language in RTL_LANGUAGES
        self.t = labels(doc.language)
        self.s = _Styles(base_size, self.rtl)
        self.label_dir = "R" if self.rtl else "L"
        self.tags = Structure(doc.language)
        # the reading order (docs/certificates.md), whatever order the page draws them in
        self.parts = {
            name: self.tags.element(role)
            for name, role in (
                ("title", "H1"),
                ("summary", "P"),
                ("specimen", "P"),
                ("details", "Sect"),
                ("holder", "Sect"),
                ("statement", "P"),
                ("countries", "Sect"),
                ("coverage", "Sect"),
                ("notes", "Sect"),
                ("verification", "Sect"),
            )
        }

    # small helpers -------------------------------------------------------

    def label(self, text: str, style: ParagraphStyle) -> _Text:
        return _Text(text, style, self.label_dir)

    def value(self, text: str, style: ParagraphStyle) -> _Text:
        return _Text(text, style, None)

    def tag(self, element: Element, flowable: Flowable) -> Flowable:
        """``flowable`` drawn as content of ``element`` in the structure tree."""
        return self.tags.tag(element, flowable)

    def under(self, parent: Element, role: str, flowable: Flowable, **attributes: Any) -> Flowable:
        """``flowable`` as the content of a new ``role`` element under ``parent``."""
        return self.tag(self.tags.element(role, parent, **attributes), flowable)

    def data_value(self, parent: Element, role: str, text: str, style: ParagraphStyle) -> Flowable:
        """A data value (a name, a place) in its own element, with its script's ``/Lang``
        when that is not the certificate's."""
        lang = script_language(text, self.doc.language)
        return self.under(parent, role, self.value(text, style), lang=lang)

    def embed(self, value: str) -> str:
        """Isolate a data value inside a translated sentence."""
        return f"{FSI}{value}{PDI}" if self.rtl else value

    def ltr(self, value: str) -> str:
        """Keep a left-to-right token (date, URL, code) whole in RTL text."""
        return f"{LRI}{value}{PDI}" if self.rtl else value

    def dated(self, day: date) -> str:
        """A date as the language writes it, then the ISO date: ``17 avril 1990 (1990-04-17)``."""
        return f"{cldr.long_date(day, self.doc.language)} ({self.ltr(_iso(day))})"

    def period(self, start: str, end: str | None) -> str:
        """A residence period, ``from - to`` (Arabic: in words, read right to left)."""
        if end is None:
            return self.t["period_open"].format(start=self.ltr(start))
        return self.t["period"].format(start=self.ltr(start), end=self.ltr(end))

    def country(self, line: CountryLine | UncoveredLine) -> str:
        """The country's name in the certificate's language."""
        return country_name(line.country, line.country_name, self.doc.language)

    def row(self, cells: Sequence[Any]) -> list[Any]:
        return list(reversed(cells)) if self.rtl else list(cells)

    def widths(self, widths: Sequence[float]) -> list[float]:
        return list(reversed(widths)) if self.rtl else list(widths)

    def col(self, index: int, count: int) -> int:
        """Table column of logical column ``index`` once mirrored."""
        return count - 1 - index if self.rtl else index

    # blocks --------------------------------------------------------------

    def story(self) -> list[Flowable]:
        story: list[Flowable] = []
        if self.doc.specimen:
            story += [self.specimen_banner(), Spacer(0, 2.5 * mm)]
        story += [
            self.header(),
            Spacer(0, 2 * mm),
            self.summary(),
            Spacer(0, 2 * mm),
            self.holder_and_qr(),
            Spacer(0, 2.5 * mm),
            self.statement(),
            Spacer(0, 2.5 * mm),
            self.under(
                self.parts["countries"],
                "H2",
                self.label(self.t["countries"], self.s.make(1.1, bold=True, colour=NAVY)),
            ),
            Spacer(0, 1.2 * mm),
            self.countries_table(),
        ]
        if self.doc.uncovered:
            story += [Spacer(0, 2 * mm), self.coverage()]
        if self.doc.notes:
            story += [Spacer(0, 2 * mm), self.notes()]
        return story

    def specimen_banner(self) -> Table:
        text = self.t["specimen_notice"]
        if "SPECIMEN" not in text:
            text = f"{text}  ·  SPECIMEN"
        style = self.s.make(1.25, bold=True, colour=colors.white)
        style.alignment = 1  # centred
        banner = self.tag(self.parts["specimen"], self.label(text, style))
        table = Table([[banner]], colWidths=[CONTENT_WIDTH])
        table.setStyle(
            TableStyle(
                [
                    ("BACKGROUND", (0, 0), (-1, -1), SPECIMEN_RED),
                    ("TOPPADDING", (0, 0), (-1, -1), 3),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
                ]
            )
        )
        return table

    def header(self) -> Table:
        t, doc, s = self.t, self.doc, self.s
        title = self.tag(
            self.parts["title"],
            self.label(t["title"], s.make(2.3, bold=True, colour=NAVY, leading=1.15)),
        )
        end = s.make(0.95, colour=MUTED)
        end.alignment = s.end_alignment
        number = s.make(1.75, bold=True, leading=1.15)
        number.alignment = s.end_alignment
        right_width = 62 * mm
        # the number is never broken across lines: smaller type when it is too wide
        natural = pdfmetrics.stringWidth(doc.certificate_id, number.fontName, number.fontSize)
        if natural > right_width - 2:
            number.fontSize *= (right_width - 2) / natural
            number.leading = number.fontSize * 1.15
        details = self.parts["details"]
        number_element = self.tags.element("P", details)
        block = [
            self.tag(number_element, self.label(t["certificate_number"], end)),
            self.tag(number_element, self.value(doc.certificate_id, number)),
            self.under(
                details,
                "P",
                self.label(f"{t['issued_on']}{t['colon']}{self.dated(doc.issued_on)}", end),
            ),
            self.under(
                details,
                "P",
                self.label(f"{t['expires_on']}{t['colon']}{self.dated(doc.expires_on)}", end),
            ),
        ]
        table = Table(
            [self.row([title, block])],
            colWidths=self.widths([CONTENT_WIDTH - right_width, right_width]),
        )
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                    ("LINEBELOW", (0, 0), (-1, -1), 1.2, NAVY),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
                ]
            )
        )
        return table

    def holder_rows(self) -> list[tuple[str, str, bool]]:
        doc, t = self.doc, self.t
        lang = doc.language
        # the number kept whole and the country isolated; in Arabic the country goes on a
        # line of its own, so that no reader (or text extractor) sees a number that starts
        # with digits reordered around the country's Arabic name
        kind = enum_word(DOCUMENT_TYPES, doc.document_type, lang)
        document = f"{kind} {self.ltr(doc.document_number)}"
        if doc.document_issuing_country:
            issuer = cldr.country_name(doc.document_issuing_country, lang)
            document += f"{chr(10) if self.rtl else ' '}({self.embed(issuer)})"
        nationalities = [cldr.country_name(code, lang) for code in doc.nationalities]
        return [
            (t["family_name"], doc.family_name, True),
            (t["given_names"], doc.given_names, True),
            *([(t["latin_name"], doc.latin_name, True)] if doc.latin_name else []),
            (t["other_names"], ", ".join(doc.other_names) or "—", False),
            (t["date_of_birth"], self.dated(doc.date_of_birth), True),
            (t["place_of_birth"], doc.place_of_birth or "—", False),
            (t["nationalities"], ("، " if self.rtl else ", ").join(nationalities) or "—", False),
            (t["identity_document"], document, False),
            (t["purpose"], doc.purpose or "—", False),
        ]

    def holder_and_qr(self) -> Table:
        s = self.s
        label_style = s.make(0.95, colour=MUTED)
        holder = self.parts["holder"]
        heading = self.under(
            holder, "H2", self.label(self.t["holder"], s.make(1.1, bold=True, colour=NAVY))
        )
        details = self.tags.element("Table", holder)
        rows = []
        for label, value, bold in self.holder_rows():
            row = self.tags.element("TR", details)
            rows.append(
                self.row(
                    [
                        self.under(row, "TH", self.label(label, label_style), scope="Row"),
                        self.data_value(row, "TD", value, s.make(1.1, bold=bold)),
                    ]
                )
            )
        identity_width = CONTENT_WIDTH - QR_COLUMN_WIDTH - 4 * mm
        label_width = 36 * mm
        identity = Table(
            rows,
            colWidths=self.widths([label_width, identity_width - label_width]),
        )
        identity.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                    ("TOPPADDING", (0, 0), (-1, -1), 1.2),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1.2),
                    ("LINEBELOW", (0, 0), (-1, -2), 0.25, RULE),
                ]
            )
        )
        verification = self.parts["verification"]
        verify_heading = self.under(
            verification,
            "H2",
            self.label(self.t["verify_heading"], s.make(0.95, bold=True, colour=NAVY)),
        )
        alt = self.t["qr_alt"].format(number=self.doc.certificate_id, url=self.doc.verify_url)
        qr_code = self.under(verification, "Figure", _QrCode(self.qr), alt=alt)
        qr_column = [
            qr_code,
            Spacer(0, 1 * mm),
            verify_heading,
            self.under(
                verification, "P", self.label(self.verify_text(), s.make(0.85, colour=MUTED))
            ),
        ]
        table = Table(
            [self.row([[heading, Spacer(0, 1 * mm), identity], qr_column])],
            colWidths=self.widths([CONTENT_WIDTH - QR_COLUMN_WIDTH, QR_COLUMN_WIDTH]),
        )
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                    ("TOPPADDING", (0, 0), (-1, -1), 0),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
                ]
            )
        )
        return table

    def verify_text(self) -> str:
        template = self.t["verify"]
        if self.rtl:
            template = template.replace("{base_url}/v", f"{LRI}{{base_url}}/v{PDI}")
        return template.format(base_url=self.doc.base_url.rstrip("/"))

    def summary(self) -> Table:
        """What the certificate says, in one sentence, before any detail; its colour
        follows the content (a record found is never green)."""
        outcomes = [line.outcome for line in self.doc.countries]
        colour = OUTCOME_COLOURS[SUMMARY_COLOURS[content_verdict(outcomes)]]
        text = summary_sentence(outcomes, self.doc.language)
        sentence = self.label(text, self.s.make(1.15, bold=True, colour=colour))
        table = Table([[self.tag(self.parts["summary"], sentence)]], colWidths=[CONTENT_WIDTH])
        table.setStyle(
            TableStyle(
                [
                    ("LINEBEFORE" if not self.rtl else "LINEAFTER", (0, 0), (-1, -1), 3, colour),
                    ("LEFTPADDING", (0, 0), (-1, -1), 6),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 6),
                    ("TOPPADDING", (0, 0), (-1, -1), 2),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ]
            )
        )
        return table

    def statement(self) -> Table:
        statement = self.label(self.t["statement"], self.s.make(0.92))
        table = Table([[self.tag(self.parts["statement"], statement)]], colWidths=[CONTENT_WIDTH])
        table.setStyle(
            TableStyle(
                [
                    ("BACKGROUND", (0, 0), (-1, -1), SHADE),
                    ("LEFTPADDING", (0, 0), (-1, -1), 5),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 5),
                    ("TOPPADDING", (0, 0), (-1, -1), 3),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
                ]
            )
        )
        return table

    # countries -------------------------------------------------------------

    COUNTRY_WIDTHS = (33 * mm, 31 * mm, 50 * mm, 20 * mm)

    def countries_table(self) -> Table:
        t, s = self.t, self.s
        widths = [*self.COUNTRY_WIDTHS, CONTENT_WIDTH - sum(self.COUNTRY_WIDTHS)]
        head_style = s.make(0.9, bold=True, colour=colors.white)
        structure = self.tags.element("Table", self.parts["countries"])
        head_row = self.tags.element("TR", structure)
        header = [
            self.under(head_row, "TH", self.label(t[key], head_style), scope="Column")
            for key in ("country", "periods", "result", "answered_on", "authority")
        ]
        rows: list[list[Any]] = [self.row(header)]
        commands: list[tuple[Any, ...]] = [
            ("BACKGROUND", (0, 0), (-1, 0), NAVY),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ("TOPPADDING", (0, 0), (-1, -1), 1.6),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2.2),
        ]
        for index, line in enumerate(self.doc.countries):
            first = len(rows)
            cells, result = self.country_cells(line, self.tags.element("TR", structure))
            rows.append(self.row(cells))
            # one row per record, so that a long list continues on the next page
            start, stop = sorted((self.col(1, 5), self.col(4, 5)))
            for part in self.record_tables(line, sum(widths[1:]), result):
                record_row: list[Any] = [""] * 5
                record_row[start] = part
                rows.append(record_row)
                commands.append(("SPAN", (start, len(rows) - 1), (stop, len(rows) - 1)))
                commands.append(("TOPPADDING", (0, len(rows) - 1), (-1, len(rows) - 1), 0))
                commands.append(("BOTTOMPADDING", (0, len(rows) - 1), (-1, len(rows) - 1), 0))
            last = len(rows) - 1
            if index % 2 == 1:
                commands.append(("BACKGROUND", (0, first), (-1, last), SHADE))
            commands.append(("LINEBELOW", (0, last), (-1, last), 0.3, RULE))
        table = Table(rows, colWidths=self.widths(widths), repeatRows=1)
        table.setStyle(TableStyle(commands))
        return table

    def country_cells(self, line: CountryLine, row: Element) -> tuple[list[Any], Element]:
        """The row's cells, as content of ``row``'s TD elements; and the result's TD,
        under which the records are read."""
        t, s = self.t, self.s
        country_cell, periods_element, result, answered_cell, authority_cell = (
            self.tags.element("TD", row) for _ in range(5)
        )
        cell = s.make(0.95)
        periods = "\n".join(self.period(start, end) for start, end in line.periods)
        country = self.value(f"{self.country(line)} ({line.country})", s.make(0.95, bold=True))
        if periods:
            periods_cell = self.label(periods, cell)
        else:
            periods_cell = self.label(t["nationality_only"], s.make(0.95, colour=MUTED))
        outcome = self.label(
            outcome_phrase(self.doc.language, line.outcome),
            s.make(0.95, bold=True, colour=OUTCOME_COLOURS[line.outcome]),
        )
        answered = _iso(line.answered_on) if line.answered_on else "—"
        authority = line.authority or "—"
        authority_cells = [self.data_value(authority_cell, "P", authority, cell)]
        if line.reference:
            reference = self.label(
                f"{t['reference']} {self.embed(line.reference)}", s.make(0.85, colour=MUTED)
            )
            authority_cells.append(self.under(authority_cell, "P", reference))
        cells = [
            self.tag(country_cell, country),
            self.tag(periods_element, periods_cell),
            self.tag(result, outcome),
            self.tag(answered_cell, self.value(answered, cell)),
            authority_cells,
        ]
        return cells, result

    def record_tables(self, line: CountryLine, width: float, result: Element) -> list[Table]:
        """The records' header, then one single-row table per record (same columns).

        On the page each is a table of its own; in the structure tree they are
        the rows of one table, read under the country's result.
        """
        if not line.records:
            return []
        t, s = self.t, self.s
        structure = self.tags.element("Table", result)
        keys = ("offence", "category", "date", "court", "sentence")
        fractions = (0.27, 0.15, 0.12, 0.22, 0.24)
        head = s.make(0.82, bold=True, colour=MUTED)
        body = s.make(0.85)
        column_widths = self.widths([width * f for f in fractions])
        head_row = self.tags.element("TR", structure)
        rows = [
            self.row(
                [self.under(head_row, "TH", self.label(t[k], head), scope="Column") for k in keys]
            )
        ]
        for record in line.records:
            category = category_words(self.doc.language, record.category)
            values = (record.offence, category, record.date, record.court, record.sentence)
            record_row = self.tags.element("TR", structure)
            rows.append(
                self.row([self.data_value(record_row, "TD", v or "—", body) for v in values])
            )
        tables = []
        for index, row in enumerate(rows):
            table = Table([row], colWidths=column_widths)
            commands: list[tuple[Any, ...]] = [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 2),
                ("RIGHTPADDING", (0, 0), (-1, -1), 2),
                ("TOPPADDING", (0, 0), (-1, -1), 0.8),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.2),
            ]
            if index == 0:
                commands += [
                    ("LINEABOVE", (0, 0), (-1, 0), 0.4, OUTCOME_COLOURS["record_found"]),
                    ("LINEBELOW", (0, 0), (-1, 0), 0.25, RULE),
                ]
            table.setStyle(TableStyle(commands))
            tables.append(table)
        return tables

    def coverage(self) -> Table:
        """One short line per residence period no definitive answer covers."""
        t, s = self.t, self.s
        section = self.parts["coverage"]
        cells: list[Flowable] = [
            self.under(
                section,
                "H2",
                self.label(
                    t["coverage"], s.make(0.95, bold=True, colour=OUTCOME_COLOURS["no_response"])
                ),
            )
        ]
        for line in self.doc.uncovered:
            text = (
                f"{self.embed(self.country(line))} ({self.ltr(line.country)})"
                f"{t['colon']}{self.period(line.start, line.end)} — "
                f"{outcome_phrase(self.doc.language, line.outcome)}"
            )
            cells.append(self.under(section, "P", self.label(text, s.make(0.88))))
        cells.append(
            self.under(
                section,
                "P",
                self.label(
                    t["coverage_gap_months"].format(months=self.doc.gap_months),
                    s.make(0.88, colour=MUTED),
                ),
            )
        )
        table = Table([[cells]], colWidths=[CONTENT_WIDTH])
        table.setStyle(
            TableStyle(
                [
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                    ("TOPPADDING", (0, 0), (-1, -1), 0),
                ]
            )
        )
        return table

    def notes(self) -> Table:
        s = self.s
        section = self.parts["notes"]
        heading = self.label(self.t["notes"], s.make(0.95, bold=True, colour=NAVY))
        cells: list[Flowable] = [self.under(section, "H2", heading)]
        cells += [self.data_value(section, "P", note, s.make(0.9)) for note in self.doc.notes]
        table = Table([[cells]], colWidths=[CONTENT_WIDTH])
        table.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0)]))
        return table

    # page decoration ----------------------------------------------------

    def footer(self, page: int, pages: int | None) -> _Text:
        """Every page: the number, the dates, and "page n of m" (m unknown on a first pass)."""
        t, doc = self.t, self.doc
        page_of = t["page_of"].format(page=self.ltr(str(page)), pages=self.ltr(str(pages or page)))
        text = "   ·   ".join(
            [
                f"{t['certificate_number']} {self.embed(doc.certificate_id)}",
                page_of,
                f"{t['issued_on']}{t['colon']}{self.ltr(_iso(doc.issued_on))}",
                f"{t['expires_on']}{t['colon']}{self.ltr(_iso(doc.expires_on))}",
            ]
        )
        style = self.s.make(0.85, colour=MUTED)
        style.fontSize = min(style.fontSize, 7.0)
        style.leading = style.fontSize * 1.2
        style.alignment = 1
        return self.label(text, style)


def _iso(value: date) -> str:
    return value.isoformat()


# --------------------------------------------------------------------------
# Pages


def _decorate(builder: _Builder, pages: list[int], total: int | None) -> Any:
    """Return the onPage callback: watermark, footer, page counting."""

    def on_page(canvas: Canvas, _doc: BaseDocTemplate) -> None:
        pages.append(canvas.getPageNumber())
        if builder.doc.specimen:
            with artifact(canvas, "Pagination", "Watermark"):
                _draw_watermark(canvas)
        footer = builder.footer(canvas.getPageNumber(), total)
        _, height = footer.wrapOn(canvas, CONTENT_WIDTH, MARGIN_BOTTOM)
        with artifact(canvas, "Pagination", "Footer"):
            canvas.saveState()
            canvas.setStrokeColor(RULE)
            canvas.setLineWidth(0.4)
            top = MARGIN_BOTTOM - 4 * mm
            canvas.line(MARGIN_X, top, PAGE_WIDTH - MARGIN_X, top)
            canvas.restoreState()
            footer.drawOn(canvas, MARGIN_X, top - 1.5 * mm - height)

    return on_page


def _draw_watermark(canvas: Canvas) -> None:
    canvas.saveState()
    canvas.setFillColor(SPECIMEN_RED)
    canvas.setFillAlpha(0.09)
    canvas.setFont(SANS_BOLD, 120)
    canvas.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2 - 40 * mm)
    canvas.rotate(52)
    canvas.drawCentredString(0, -40, "SPECIMEN")
    canvas.restoreState()


def _metadata(doc: CertificateDocument, t: Mapping[str, str]) -> dict[str, Any]:
    title = f"{t['title']} {doc.certificate_id}"
    if doc.specimen:
        title = f"{t['specimen']} — {title}"
    return {
        "title": title,
        "subject": f"{t['title']} — {t['certificate_number']} {doc.certificate_id}",
        "author": "International Police Certificate service",
        "creator": "International Police Certificate service",
        "lang": doc.language,
        # a PDF reader's window shows the certificate's title, not the file name
        "displayDocTitle": True,
    }


def _render_at(
    doc: CertificateDocument, base_size: float, qr: QrMatrix, total: int | None = None
) -> tuple[bytes, int, Structure]:
    """The untagged PDF at ``base_size``, its page count, and its structure tree
    (``qr``: the verification QR code's modules, built once for every size tried)."""
    builder = _Builder(doc, base_size, qr)
    pages: list[int] = []
    buffer = io.BytesIO()
    template = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        **_metadata(doc, builder.t),
    )
    frame = Frame(
        MARGIN_X,
        MARGIN_BOTTOM,
        CONTENT_WIDTH,
        FRAME_HEIGHT,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id="content",
    )
    template.addPageTemplates(
        [PageTemplate(id="certificate", frames=[frame], onPage=_decorate(builder, pages, total))]
    )
    template.build(builder.story())
    return buffer.getvalue(), len(pages), builder.tags


def _story_height(doc: CertificateDocument, base_size: float, qr: QrMatrix) -> float:
    """The height the certificate's content takes at ``base_size``, measured as the
    page's frame measures it (each part's wrapped height and spacing), without drawing."""
    canvas = Canvas(io.BytesIO(), pagesize=A4)  # some parts measure text on it
    total = 0.0
    for flowable in _Builder(doc, base_size, qr).story():
        _, height = flowable.wrapOn(canvas, CONTENT_WIDTH, FRAME_HEIGHT)
        total += height + flowable.getSpaceBefore() + flowable.getSpaceAfter()
    return total


#: How a certificate's height grows with its text size (height ~ size ** this), roughly:
#: the first guess, before two measures give the document's own growth.
_HEIGHT_GROWTH = 1.6

#: The size last found for a certificate of each shape (language, countries, records):
#: where the next search of that shape starts. A hint only: the search still proves
#: its answer, so a wrong one costs measures, never a different size.
_LAST_FOUND: dict[tuple[str, int, int], int] = {}
_LAST_FOUND_KEPT = 256


def _shape(doc: CertificateDocument) -> tuple[str, int, int]:
    return (doc.language, len(doc.countries), sum(len(line.records) for line in doc.countries))


def _size_by_measure(doc: CertificateDocument, qr: QrMatrix) -> int:
    """The index in :data:`FONT_SIZES` of the largest text size at which the content
    fits one page by measure (the smallest size's when none does).

    A measure costs a fraction of a layout, but a long certificate's is still
    ~15 ms, so the search measures as few sizes as it can. It keeps the
    largest size known not to fit and the smallest known to fit, and its
    answer is proven when they are neighbours. It starts where the last
    certificate of the same shape ended, and then tries that size's
    neighbour: two measures for a certificate like the last one. Otherwise
    it starts at the largest size and guesses from how the height grows with
    the size: with about the 1.6th power of the text size (between 1.1 and
    2.9 on the test documents, fixed parts and line breaks included), and
    once two sizes are measured, with the power those two show.
    """
    heights: dict[int, float] = {}
    too_large, fits = -1, len(FONT_SIZES)  # the answer lies in between, ``fits`` included
    shape = _shape(doc)
    hint = _LAST_FOUND.get(shape)
    while fits - too_large > 1:
        if not heights:
            index = 0 if hint is None else hint
        elif hint is not None and len(heights) == 1:
            index = hint - 1 if fits == hint else hint + 1  # its neighbour, to prove it
        else:
            index = _guess(heights, FRAME_HEIGHT)
        index = min(max(index, too_large + 1), fits - 1)
        heights[index] = _story_height(doc, FONT_SIZES[index], qr)
        if heights[index] <= FRAME_HEIGHT:
            fits = index
        else:
            too_large = index
    found = min(fits, len(FONT_SIZES) - 1)
    if len(_LAST_FOUND) >= _LAST_FOUND_KEPT:
        _LAST_FOUND.clear()
    _LAST_FOUND[shape] = found
    return found


def _guess(heights: dict[int, float], room: float) -> int:
    """The index of the size predicted to fill ``room`` exactly, rounded to the next
    smaller size: from the two measures nearest to it by the power they show between
    them, or from the one by :data:`_HEIGHT_GROWTH`."""
    nearest = sorted(heights, key=lambda i: abs(math.log(heights[i] / room)))[:2]
    growth = _HEIGHT_GROWTH
    if len(nearest) == 2:
        a, b = nearest
        if heights[a] != heights[b]:
            measured = math.log(heights[a] / heights[b]) / math.log(FONT_SIZES[a] / FONT_SIZES[b])
            if measured > 0:
                growth = measured
    base = nearest[0]
    predicted = FONT_SIZES[base] * (room / heights[base]) ** (1 / growth)
    # the largest size not above the prediction (sizes fall as the index rises)
    below = [i for i, size in enumerate(FONT_SIZES) if size <= predicted]
    return below[0] if below else len(FONT_SIZES) - 1


def _render_one_page(
    doc: CertificateDocument, base_size: float, qr: QrMatrix
) -> tuple[bytes, Structure] | None:
    """The PDF at ``base_size`` and its structure, or None if it does not fit on one page."""
    try:
        pdf, page_count, structure = _render_at(doc, base_size, qr, total=1)
    except LayoutError:
        return None
    return (pdf, structure) if page_count == 1 else None


def render_certificate_pdf(doc: CertificateDocument) -> bytes:
    """Render ``doc`` as an A4 PDF and return its bytes.

    One page at the largest text size that fits it; a certificate too long for
    one page even at the smallest size continues on as many pages as it needs,
    at :data:`MULTI_PAGE_SIZE`. Every page carries the number and "page n of m".

    Raises:
        ValueError: for an unknown language or outcome, or a verification URL
            too long for the QR code.
    """
    register_fonts()
    labels(doc.language)  # fail early on an unknown language
    qr = make_qr(doc.verify_url).matrix  # once: a long certificate is laid out at several sizes
    # the largest size that fits by measure is laid out to confirm it (and the next
    # smaller ones, should the page disagree)
    for size in FONT_SIZES[_size_by_measure(doc, qr) :]:
        best = _render_one_page(doc, size, qr)
        if best is not None:
            return write_structure(*best)
    _, pages, _ = _render_at(doc, MULTI_PAGE_SIZE, qr)  # count the pages, then number them
    pdf, printed, structure = _render_at(doc, MULTI_PAGE_SIZE, qr, total=pages)
    if printed != pages:  # pragma: no cover - the footer sits outside the frame
        raise RuntimeError(f"certificate {doc.certificate_id}: page count moved on re-render")
    return write_structure(pdf, structure)
