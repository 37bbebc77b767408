"""The certificate's structure tree (tagged PDF), read back from the signed file.

The PDF is rendered, signed with a real PAdES signature, then parsed with
pikepdf: the structure tree is walked in reading order, and the text of each
element is the text drawn inside its marked-content sequences, decoded from
the page's content stream through the fonts' ToUnicode maps. Poppler's
``pdfinfo -struct-text`` reads the same tree as an independent parser.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from reportlab.lib.pagesizes import A4

from certificate.i18n import cldr
from certificate.issuance.document import CertificateDocument, CountryLine
from certificate.issuance.i18n import labels, outcome_phrase
from certificate.issuance.pdf import QR_SYMBOL_SIZE, render_certificate_pdf
from certificate.issuance.summary import summary_sentence
from certificate.signing.pades import (
    PadesCredentials,
    check_pdf_signature,
    create_root_ca,
    issue_signer_certificate,
    sign_pdf,
)
from tests.unit.issuance.test_pdf import COUNTRIES, make_document

LANGUAGES = ("en", "ar")
PAINTING = frozenset({"Tj", "TJ", "'", '"', "f", "F", "f*", "B", "B*", "b", "b*", "S", "s", "sh"})
PAINTING |= {"Do", "INLINE IMAGE"}
BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")


# --- reading the file -------------------------------------------------------


@dataclass
class Node:
    """A structure element as read from the file."""

    role: str
    #: the element's own entries (/Alt, /Lang, /BBox, /A ...), as Python values
    entries: dict[str, Any]
    marks: list[tuple[int, int]] = field(default_factory=list)  # (page index, MCID)
    children: list[Node] = field(default_factory=list)
    text: str = ""

    def walk(self) -> list[Node]:
        """This element and every element below it, in reading order."""
        return [self, *(node for child in self.children for node in child.walk())]

    def find(self, role: str) -> list[Node]:
        return [node for node in self.walk() if node.role == role]


@dataclass
class Tagged:
    """Everything the test needs from one parsed PDF."""

    catalog: pikepdf.Dictionary
    info: pikepdf.Dictionary
    document: Node
    #: (page index, MCID) -> the text drawn in that marked-content sequence
    drawn: dict[tuple[int, int], str]
    #: (page index, MCID) -> the structure element the parent tree names
    parents: dict[tuple[int, int], pikepdf.Object]
    #: (page index, MCID) -> the structure elements whose kids name it
    owners: dict[tuple[int, int], list[pikepdf.Object]]
    #: painting operators outside any marked-content sequence, per page
    unmarked: list[tuple[int, str]]
    #: the text drawn as artifacts
    artifacts: list[str]
    pages: int
    pdf: pikepdf.Pdf  # kept open: the objects above belong to it


def _to_unicode(font: pikepdf.Object) -> dict[int, str]:
    if "/ToUnicode" not in font:
        return {}
    cmap = font.ToUnicode.read_bytes().decode("ascii")
    entries = "".join(re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S))
    mapping = {}
    for code, text in re.findall(r"<([0-9A-Fa-f]{2})> <([0-9A-Fa-f]+)>", entries):
        mapping[int(code, 16)] = bytes.fromhex(text).decode("utf-16-be")
    return mapping


def _decode(data: bytes, mapping: dict[int, str]) -> str:
    if not mapping:
        return data.decode("latin-1")
    return "".join(mapping.get(byte, "\ufffd") for byte in data)


def _content(
    pdf: pikepdf.Pdf,
) -> tuple[dict[tuple[int, int], str], list[tuple[int, str]], list[str]]:
    """Text per marked-content id, unmarked painting, and artifacts' text, page by page.

    A span with ``/ActualText`` (glyphs drawn one by one, reordered or ligated)
    counts as its actual text rather than as the glyphs it draws.
    """
    drawn: dict[tuple[int, int], str] = {}
    unmarked: list[tuple[int, str]] = []
    artifacts: list[str] = []

    def add(index: int, stack: list[Any], text: str) -> None:
        mcids = [item for item in stack if isinstance(item, int)]
        if "artifact" in stack:
            artifacts.append(text)
        elif mcids:
            drawn[index, mcids[-1]] = drawn.get((index, mcids[-1]), "") + text

    for index, page in enumerate(pdf.pages):
        fonts = {str(name): _to_unicode(font) for name, font in page.Resources.Font.items()}
        stack: list[Any] = []  # an MCID, "artifact", "actual" (a span with ActualText), "span"
        font: dict[int, str] = {}
        for instruction in pikepdf.parse_content_stream(page):
            operator = str(instruction.operator)
            operands = list(instruction.operands)
            if operator == "BDC":
                tag, properties = operands
                if str(tag) == "/Artifact":
                    stack.append("artifact")
                elif isinstance(properties, pikepdf.Dictionary) and "/MCID" in properties:
                    stack.append(int(properties.MCID))
                elif isinstance(properties, pikepdf.Dictionary) and "/ActualText" in properties:
                    add(index, stack, "\n" + str(properties.ActualText))
                    stack.append("actual")
                else:
                    stack.append("span")
            elif operator == "BMC":
                stack.append("artifact" if str(operands[0]) == "/Artifact" else "span")
            elif operator == "EMC":
                stack.pop()
            elif operator == "Tf":
                font = fonts[str(operands[0])]
            if operator in PAINTING and not any(item != "span" for item in stack):
                unmarked.append((index, operator))
            if "actual" in stack:
                continue
            text = ""
            if operator in ("Tj", "'", '"'):
                text = _decode(bytes(operands[-1]), font)
            elif operator == "TJ":
                text = "".join(
                    _decode(bytes(part), font)
                    for part in operands[0]
                    if isinstance(part, pikepdf.String)
                )
            elif operator in ("Td", "TD", "T*", "Tm"):
                text = "\n"
            if text:
                add(index, stack, text)
    return drawn, unmarked, artifacts


def _plain(value: Any) -> Any:
    if isinstance(value, pikepdf.Dictionary):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, pikepdf.Array):
        return [_plain(item) for item in value]
    if isinstance(value, pikepdf.Name | pikepdf.String):
        return str(value)
    return float(value) if isinstance(value, float | int | Decimal) else value


def read_tagged(data: bytes) -> Tagged:
    """Parse ``data`` and read its structure tree, parent tree and marked content."""
    pdf = pikepdf.open(io.BytesIO(data))
    page_index = {page.obj.objgen: index for index, page in enumerate(pdf.pages)}
    drawn, unmarked, artifacts = _content(pdf)
    owners: dict[tuple[int, int], list[pikepdf.Object]] = {}

    def read(element: pikepdf.Object, page: int | None) -> Node:
        if "/Pg" in element:
            page = page_index[element.Pg.objgen]
        own = {k: _plain(v) for k, v in element.items() if k not in ("/K", "/P", "/Pg")}
        node = Node(str(element.S)[1:], own)
        kids = element.get("/K", pikepdf.Array())
        if not isinstance(kids, pikepdf.Array):
            kids = pikepdf.Array([kids])
        parts = []
        for kid in kids:
            if isinstance(kid, int):
                assert page is not None
                mark = (page, int(kid))
            elif kid.get("/Type") == "/MCR":
                mark = (page_index[kid.Pg.objgen] if "/Pg" in kid else page, int(kid.MCID))
            else:
                child = read(kid, page)
                node.children.append(child)
                parts.append(child.text)
                continue
            assert mark[0] is not None
            node.marks.append(mark)  # type: ignore[arg-type]
            owners.setdefault(mark, []).append(element)  # type: ignore[arg-type]
            parts.append(drawn.get(mark, ""))  # type: ignore[arg-type]
        node.text = " ".join(" ".join(parts).split())
        return node

    tree_root = pdf.Root.StructTreeRoot
    [document] = tree_root.K
    numbers = list(tree_root.ParentTree.Nums)
    parents = {}
    for key, array in zip(numbers[::2], numbers[1::2], strict=True):
        for mcid, element in enumerate(array):
            parents[int(key), mcid] = element
    for index, page in enumerate(pdf.pages):
        assert int(page.obj.StructParents) == index
    return Tagged(
        catalog=pdf.Root,
        info=pdf.docinfo,
        document=read(document, None),
        drawn=drawn,
        parents=parents,
        owners=owners,
        unmarked=unmarked,
        artifacts=artifacts,
        pages=len(pdf.pages),
        pdf=pdf,
    )


def shows(drawn: str, expected: str) -> bool:
    """True when ``drawn`` shows every word of ``expected``.

    Right-to-left words drawn as glyphs in visual order read backwards in the
    content stream; an ``/ActualText`` gives them in reading order.
    """
    drawn = " ".join(drawn.split())
    backwards = drawn[::-1]
    for word in re.findall(r"\w+", BIDI_CONTROLS.sub("", expected)):
        if word not in drawn and not (RTL.search(word) and word in backwards):
            return False
    return True


def table_under(tree: Node, heading: str) -> Node:
    """The table read right after the H2 heading that shows ``heading``."""
    order = tree.walk()
    found = next(n for n in order if n.role == "H2" and shows(n.text, heading))
    table = order[order.index(found) + 1]
    assert table.role == "Table"
    return table


# --- fixtures ---------------------------------------------------------------


@pytest.fixture(scope="module")
def credentials() -> PadesCredentials:
    now = datetime.now(UTC)
    root_key, root = create_root_ca(now)
    key, certificate = issue_signer_certificate(root_key, root, now)
    return PadesCredentials(key, certificate, (root,))


def _signed(document: CertificateDocument, credentials: PadesCredentials) -> bytes:
    signed = sign_pdf(render_certificate_pdf(document), credentials, verify_url=document.verify_url)
    report = check_pdf_signature(signed, (credentials.chain[-1],))
    assert report.ok, report  # the structure is written before signing, never after
    return signed


@pytest.fixture(scope="module")
def certificates(credentials: PadesCredentials) -> dict[str, tuple[CertificateDocument, bytes]]:
    """A signed SPECIMEN certificate per language: 20 countries, records in two of them."""
    result = {}
    for language in LANGUAGES:
        document = make_document(language, specimen=True)
        result[language] = (document, _signed(document, credentials))
    return result


# --- the tree ---------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_signed_certificate_is_a_tagged_pdf_in_its_language(
    certificates: dict[str, tuple[CertificateDocument, bytes]], language: str
) -> None:
    _, pdf = certificates[language]
    tagged = read_tagged(pdf)
    assert tagged.catalog.MarkInfo.Marked is True
    assert str(tagged.catalog.Lang) == language
    assert tagged.catalog.ViewerPreferences.DisplayDocTitle is True
    assert labels(language)["title"] in str(tagged.info.Title)
    assert tagged.document.role == "Document"
    for page in pikepdf.open(io.BytesIO(pdf)).pages:
        assert page.obj.Tabs == pikepdf.Name.S


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_title_then_the_summary_lead_the_reading_order(
    certificates: dict[str, tuple[CertificateDocument, bytes]], language: str
) -> None:
    document, pdf = certificates[language]
    tree = read_tagged(pdf).document
    title, summary = tree.children[:2]
    assert title.role == "H1"
    assert shows(title.text, labels(language)["title"])
    assert summary.role == "P"
    sentence = summary_sentence([line.outcome for line in document.countries], language)
    assert shows(summary.text, sentence)
    if language == "en":
        assert summary.text == " ".join(sentence.split())


@pytest.mark.parametrize("language", LANGUAGES)
def test_summary_holder_countries_and_qr_figure_come_in_that_order(
    certificates: dict[str, tuple[CertificateDocument, bytes]], language: str
) -> None:
    _document, pdf = certificates[language]
    t = labels(language)
    order = read_tagged(pdf).document.walk()
    summary = order.index(order[0].children[1])
    holder = next(i for i, n in enumerate(order) if n.role == "H2" and shows(n.text, t["holder"]))
    countries = next(
        i for i, n in enumerate(order) if n.role == "H2" and shows(n.text, t["countries"])
    )
    [figure] = [i for i, n in enumerate(order) if n.role == "Figure"]
    assert summary < holder < countries < figure
    # the holder's details follow their heading; the countries' table its heading
    assert order[holder + 1].role == "Table"
    assert order[countries + 1].role == "Table"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_holder_is_a_table_of_labelled_values(
    certificates: dict[str, tuple[CertificateDocument, bytes]], language: str
) -> None:
    document, pdf = certificates[language]
    t = labels(language)
    table = table_under(read_tagged(pdf).document, t["holder"])
    rows = {}
    for row in table.children:
        assert row.role == "TR"
        header, value = row.children
        assert header.role == "TH"
        assert header.entries["/A"] == {"/O": "/Table", "/Scope": "/Row"}
        assert value.role == "TD"
        rows[header.text] = value

    def value_of(key: str) -> Node:
        [node] = [node for label, node in rows.items() if shows(label, t[key])]
        return node

    assert value_of("family_name").text == document.family_name
    assert value_of("given_names").text == document.given_names
    assert shows(value_of("date_of_birth").text, document.date_of_birth.isoformat())
    assert shows(value_of("date_of_birth").text, cldr.long_date(document.date_of_birth, language))
    assert shows(value_of("identity_document").text, document.document_number)


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_country_is_one_row_of_the_countries_table(
    certificates: dict[str, tuple[CertificateDocument, bytes]], language: str
) -> None:
    document, pdf = certificates[language]
    t = labels(language)
    header, *rows = table_under(read_tagged(pdf).document, t["countries"]).children
    assert [cell.role for cell in header.children] == ["TH"] * 5
    assert all(cell.entries["/A"]["/Scope"] == "/Column" for cell in header.children)
    for cell, key in zip(
        header.children, ("country", "periods", "result", "answered_on", "authority"), strict=True
    ):
        assert shows(cell.text, t[key])
    assert len(rows) == len(document.countries)
    for row, line in zip(rows, document.countries, strict=True):
        assert row.role == "TR"
        country, periods, result, answered, authority = row.children
        assert [cell.role for cell in row.children] == ["TD"] * 5
        assert f"({line.country})" in country.text
        assert shows(result.text, outcome_phrase(language, line.outcome))
        assert shows(answered.text, line.answered_on.isoformat() if line.answered_on else "")
        assert shows(authority.text, line.authority)
        for start, _end in line.periods:
            assert shows(periods.text, start)
        _check_records(line, result, language)


def _check_records(line: CountryLine, result: Node, language: str) -> None:
    """The records are a table read under the country's result: a header row, a row each."""
    tables = [child for child in result.children if child.role == "Table"]
    if not line.records:
        assert tables == []
        return
    [records] = tables
    header, *rows = records.children
    assert all(cell.role == "TH" for cell in header.children)
    assert len(rows) == len(line.records)
    for row, record in zip(rows, line.records, strict=True):
        offence, _category, day, court, sentence = row.children
        assert offence.text == record.offence
        assert day.text == record.date
        assert court.text == record.court
        assert sentence.text == record.sentence


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_qr_code_is_a_figure_whose_alt_text_gives_its_link(
    certificates: dict[str, tuple[CertificateDocument, bytes]], language: str
) -> None:
    document, pdf = certificates[language]
    [figure] = read_tagged(pdf).document.find("Figure")
    alt = figure.entries["/Alt"]
    assert document.verify_url in alt
    assert document.certificate_id in alt
    assert alt != document.verify_url  # it says what the image is, in the certificate's words
    assert figure.marks  # the modules drawn are the figure's content
    x0, y0, x1, y1 = figure.entries["/BBox"]
    assert x1 - x0 == pytest.approx(
        y1 - y0, abs=0.05
    )  # the square of the QR code and its quiet zone
    assert QR_SYMBOL_SIZE < x1 - x0 < 1.5 * QR_SYMBOL_SIZE
    assert 0 <= x0 < x1 <= A4[0]
    assert 0 <= y0 < y1 <= A4[1]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_mark_is_named_once_and_nothing_is_left_unmarked(
    certificates: dict[str, tuple[CertificateDocument, bytes]], language: str
) -> None:
    _, pdf = certificates[language]
    tagged = read_tagged(pdf)
    _check_marks(tagged)
    # footers and the watermark are artifacts, not content
    assert any("SPECIMEN" in text for text in tagged.artifacts)


def _check_marks(tagged: Tagged) -> None:
    assert tagged.unmarked == []
    assert set(tagged.drawn) <= set(tagged.parents)
    assert set(tagged.parents) == set(tagged.owners)
    for mark, owners in tagged.owners.items():
        assert len(owners) == 1, mark  # each MCID in exactly one element's kids
        assert owners[0].objgen == tagged.parents[mark].objgen  # and the parent tree agrees
    for page in range(tagged.pages):
        mcids = sorted(mcid for index, mcid in tagged.parents if index == page)
        assert mcids == list(range(len(mcids)))


@pytest.mark.parametrize("language", LANGUAGES)
def test_names_in_another_script_carry_their_own_language(
    certificates: dict[str, tuple[CertificateDocument, bytes]], language: str
) -> None:
    document, pdf = certificates[language]
    tree = read_tagged(pdf).document
    [family] = [n for n in tree.find("TD") if n.text == document.family_name]
    expected = None if language == "en" else "und-Latn"  # a Latin name on an Arabic page
    assert family.entries.get("/Lang") == expected
    greek = next(n for n in tree.find("P") if "Ποινικό" in n.text)
    assert greek.entries["/Lang"] == "und-Grek"


def test_a_long_certificate_keeps_one_table_across_its_pages(
    credentials: PadesCredentials,
) -> None:
    doc = make_document("en", country_count=len(COUNTRIES))
    doc = CertificateDocument(**{**doc.__dict__, "countries": doc.countries * 4})
    tagged = read_tagged(_signed(doc, credentials))
    assert tagged.pages > 1
    _check_marks(tagged)
    header, *rows = table_under(tagged.document, labels("en")["countries"]).children
    assert len(rows) == len(doc.countries)
    pages = Counter(page for row in rows for cell in row.children for page, _ in cell.marks)
    assert set(pages) == set(range(tagged.pages))  # rows on every page, one Table element
    assert [row.children[0].text for row in rows] == [
        f"{line.country_name} ({line.country})" for line in doc.countries
    ]
    # the header row repeated on later pages is drawn as an artifact, read once
    assert header.text.count(labels("en")["country"]) == 1
    assert sum(labels("en")["authority"] in text for text in tagged.artifacts) == tagged.pages - 1


@pytest.mark.skipif(shutil.which("pdfinfo") is None, reason="poppler-utils not installed")
def test_poppler_reads_the_same_structure(
    certificates: dict[str, tuple[CertificateDocument, bytes]], tmp_path: Path
) -> None:
    document, pdf = certificates["en"]
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    output = subprocess.run(
        ["pdfinfo", "-struct-text", str(path)], capture_output=True, text=True, check=True
    ).stdout
    roles = [line.split()[0].rstrip(":") for line in output.splitlines() if line.strip()[:1] != '"']
    assert roles[:3] == ["Document", "H1", "P"]
    assert roles.count("Figure") == 1
    assert roles.count("Table") == 1 + 1 + 2  # holder, countries, two countries' records
    expected = 8 + 1 + len(document.countries) + 2 * (1 + 2)  # TRs of those tables
    assert roles.count("TR") == expected
    quoted = re.findall(r'^\s*"(.*)"$', output, re.M)
    assert quoted.index(labels("en")["title"]) < quoted.index(document.family_name)
    for code, name, _authority in COUNTRIES:
        assert f"{name} ({code})" in quoted
