"""A tagged PDF (ISO 32000-1 §14.7-14.8) out of reportlab's platypus.

reportlab draws pages but has no notion of a document's logical structure,
so a screen reader would meet the certificate as loose pieces of text in
drawing order. This module adds the structure in two steps:

1. **While the pages are drawn**, every piece of content is bracketed in the
   page's content stream: a flowable wrapped by :meth:`Structure.tag` draws
   inside ``/Role <</MCID n>> BDC … EMC`` and records which structure
   element the marked-content id ``n`` of that page belongs to; table
   backgrounds and rules (:class:`Table`), footers and watermarks
   (:func:`artifact`) draw inside ``/Artifact … BDC … EMC``, so that nothing
   on a page is left unmarked.
2. **After reportlab has written the file**, :func:`write_structure` adds the
   structure tree with pikepdf: the ``/StructTreeRoot`` with its elements in
   reading order, the ``/ParentTree`` (each page's MCIDs back to their
   elements), ``/StructParents`` and ``/Tabs /S`` on every page,
   ``/MarkInfo``, the document's ``/Lang`` and ``/DisplayDocTitle``.

The reading order is the order in which elements are created (see
:class:`Structure`), not the order in which the page draws them: a
right-to-left table draws its cells from the left, and its first logical
column last, yet reads first.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import icu
import pikepdf
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable
from reportlab.platypus import Table as PlatypusTable

#: Standard structure types used (ISO 32000-1 §14.8.4); no role map is needed.
ROLES = frozenset({"Document", "Sect", "H1", "H2", "P", "Table", "TR", "TH", "TD", "Figure"})


@dataclass(frozen=True)
class Mark:
    """One marked-content sequence: page number (from 1), MCID on that page, and its
    place in reading order among its element's other content."""

    order: int
    page: int
    mcid: int


@dataclass(eq=False)
class Element:
    """A structure element: its standard role, attributes and children."""

    role: str
    parent: Element | None
    order: int
    #: Entries of the element dictionary itself: ``Alt``, ``Lang``, ``BBox``...
    entries: dict[str, Any] = field(default_factory=dict)
    #: Table attributes (``/A << /O /Table … >>``): ``Scope``.
    table: dict[str, str] = field(default_factory=dict)
    children: list[Element] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)

    def kids(self) -> list[Element | Mark]:
        """Child elements and marked content, in reading order."""
        items: list[Element | Mark] = [*self.children, *self.marks]
        return sorted(items, key=lambda item: item.order)

    def has_content(self) -> bool:
        """True when some marked content on a page belongs to this element or below."""
        return bool(self.marks) or any(child.has_content() for child in self.children)


class Structure:
    """The structure tree of one rendering, built while the story is composed and drawn.

    Elements and tagged flowables are numbered as they are created; siblings
    are read in that order. Create a section's element before the elements
    of any later section, even when the page draws the later one first.
    """

    def __init__(self, language: str) -> None:
        self.language = language
        self._order = itertools.count()
        self.root = Element("Document", None, next(self._order), {"Lang": language})
        #: page number -> the element of each MCID on that page, by MCID
        self.pages: dict[int, list[Element]] = {}

    def element(
        self,
        role: str,
        parent: Element | None = None,
        *,
        alt: str | None = None,
        lang: str | None = None,
        scope: str | None = None,
    ) -> Element:
        """A new element under ``parent`` (the document when None), read after its
        earlier siblings. ``scope`` (``Column`` or ``Row``) is for header cells."""
        if role not in ROLES:
            raise ValueError(f"not a structure type used here: {role}")
        parent = parent or self.root
        element = Element(role, parent, next(self._order))
        if alt is not None:
            element.entries["Alt"] = alt
        if lang is not None and lang != self.inherited_lang(parent):
            element.entries["Lang"] = lang
        if scope is not None:
            element.table["Scope"] = scope
        parent.children.append(element)
        return element

    def inherited_lang(self, element: Element | None) -> str:
        """The language an element inherits from its nearest ancestor that states one."""
        while element is not None:
            if "Lang" in element.entries:
                return str(element.entries["Lang"])
            element = element.parent
        return self.language

    def tag(self, element: Element, flowable: Flowable) -> Flowable:
        """``flowable``, drawn as content of ``element``."""
        return Tagged(self, element, flowable, next(self._order))

    def begin(self, canvas: Canvas, element: Element, order: int) -> None:
        """Open a marked-content sequence for ``element`` on the canvas's current page."""
        page = canvas.getPageNumber()
        owners = self.pages.setdefault(page, [])
        mcid = len(owners)
        owners.append(element)
        element.marks.append(Mark(order, page, mcid))
        _emit(canvas, f"/{element.role} <</MCID {mcid}>> BDC")


def _emit(canvas: Canvas, operator: str) -> None:
    """Write a marked-content operator into the page's content stream."""
    canvas._code.append(operator)  # reportlab has no marked-content API


def end(canvas: Canvas) -> None:
    """Close the innermost marked-content sequence."""
    _emit(canvas, "EMC")


@contextmanager
def artifact(canvas: Canvas, kind: str = "Layout", subtype: str | None = None) -> Iterator[None]:
    """Everything drawn inside is an artifact: decoration, pagination, a watermark.

    ``kind`` is the artifact's ``/Type`` (``Pagination``, ``Layout``,
    ``Page``); ``subtype`` its ``/Subtype`` (``Header``, ``Footer``,
    ``Watermark``).
    """
    properties = f"/Type /{kind}" + (f" /Subtype /{subtype}" if subtype else "")
    _emit(canvas, f"/Artifact <<{properties}>> BDC")
    try:
        yield
    finally:
        end(canvas)


class Tagged(Flowable):
    """A flowable whose drawing is marked content of a structure element.

    Drawn a second time (a table's header row repeated on the next page), it
    is an artifact: the element already holds that content once.
    """

    def __init__(self, structure: Structure, element: Element, inner: Flowable, order: int):
        super().__init__()
        self.structure = structure
        self.element = element
        self.inner = inner
        self.order = order
        self.hAlign = getattr(inner, "hAlign", "LEFT")
        self._drawn = False

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        width, height = self.inner.wrapOn(self.canv, availWidth, availHeight)
        self.width, self.height = width, height
        return width, height

    def getSpaceBefore(self) -> float:  # noqa: N802 (reportlab's name)
        return float(self.inner.getSpaceBefore())

    def getSpaceAfter(self) -> float:  # noqa: N802 (reportlab's name)
        return float(self.inner.getSpaceAfter())

    def draw(self) -> None:
        canvas = self.canv
        if self._drawn:
            with artifact(canvas, "Pagination"):
                self.inner.drawOn(canvas, 0, 0)
            return
        self._drawn = True
        if self.element.role == "Figure":
            self.element.entries["BBox"] = _page_box(canvas, self.width, self.height)
        self.structure.begin(canvas, self.element, self.order)
        self.inner.drawOn(canvas, 0, 0)
        end(canvas)


def _page_box(canvas: Canvas, width: float, height: float) -> list[float]:
    """The rectangle (0, 0, width, height) of the current drawing, in page coordinates."""
    a, b, c, d, e, f = canvas._currentMatrix
    xs, ys = [], []
    for x, y in ((0, 0), (width, 0), (0, height), (width, height)):
        xs.append(a * x + c * y + e)
        ys.append(b * x + d * y + f)
    return [round(min(xs), 2), round(min(ys), 2), round(max(xs), 2), round(max(ys), 2)]


class Table(PlatypusTable):
    """A platypus Table whose backgrounds, rules and empty cells are drawn as artifacts.

    Its cells must hold flowables (tagged through :meth:`Structure.tag`) or
    be empty; a cell of plain text is refused when drawn.
    """

    def __init__(self, data: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("renderCB", _TableCallback())
        super().__init__(data, *args, **kwargs)


class _TableCallback:
    """The render callback of :class:`Table`: opens and closes artifact sequences."""

    def __init__(self) -> None:
        self._open_cell = False

    def __call__(self, table: PlatypusTable, event: str, *args: Any) -> None:
        canvas = table.canv
        if event in ("startBG", "startLines"):
            _emit(canvas, "/Artifact <</Type /Layout>> BDC")
        elif event in ("endBG", "endLines"):
            end(canvas)
        elif event == "startCell":
            value = args[2]
            if not isinstance(value, Flowable | list | tuple):
                if value is not None and str(value):
                    raise ValueError(f"untagged text in a table cell: {value!r}")
                self._open_cell = True
                _emit(canvas, "/Artifact <</Type /Layout>> BDC")
        elif event == "endCell" and self._open_cell:
            self._open_cell = False
            end(canvas)


# --------------------------------------------------------------------------
# Languages of data values


def _script(char: str) -> str:
    return str(icu.Script.getScript(ord(char)).getShortName())


def script_language(text: str, language: str) -> str | None:
    """A language tag for ``text`` when it is written in another script than ``language``.

    A name in Cyrillic on an English certificate is read by a screen reader
    with the wrong voice unless it carries its own ``/Lang``. Its language is
    not known (a Cyrillic name may be Russian, Ukrainian, Serbian…), so the
    tag names only the script: ``und-Cyrl``. None when the text is in the
    certificate language's script, or mixes scripts.
    """
    scripts = {_script(char) for char in text if char.isalpha()}
    scripts -= {"Zyyy", "Zinh"}  # common and inherited characters belong to no script
    if len(scripts) != 1:
        return None
    [script] = scripts
    own = icu.Locale.addLikelySubtags(icu.Locale(language)).getScript()
    return None if script == own else f"und-{script}"


# --------------------------------------------------------------------------
# The structure tree, written into the file


def write_structure(pdf: bytes, structure: Structure) -> bytes:
    """Add ``structure`` to reportlab's ``pdf`` as its tagged-PDF structure tree.

    Every MCID drawn on a page is referenced once, from its element's kids
    and from the page's entry in the parent tree. Elements without any
    content (an empty section) are left out.
    """
    with pikepdf.open(io.BytesIO(pdf)) as document:
        pages = [page.obj for page in document.pages]
        tree_root = document.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.StructTreeRoot))
        written: dict[int, pikepdf.Object] = {}

        def write(element: Element, parent: pikepdf.Object) -> pikepdf.Object:
            node = document.make_indirect(
                pikepdf.Dictionary(
                    Type=pikepdf.Name.StructElem, S=pikepdf.Name("/" + element.role), P=parent
                )
            )
            written[id(element)] = node
            for key, value in element.entries.items():
                node[pikepdf.Name("/" + key)] = _pdf_value(value)
            if element.table:
                attributes = pikepdf.Dictionary(O=pikepdf.Name.Table)
                for key, value in element.table.items():
                    attributes[pikepdf.Name("/" + key)] = pikepdf.Name("/" + value)
                node.A = attributes
            if element.marks:
                node.Pg = pages[min(mark.page for mark in element.marks) - 1]
            kids = pikepdf.Array()
            for kid in element.kids():
                if isinstance(kid, Element):
                    if kid.has_content():
                        kids.append(write(kid, node))
                else:
                    kids.append(
                        pikepdf.Dictionary(
                            Type=pikepdf.Name.MCR, Pg=pages[kid.page - 1], MCID=kid.mcid
                        )
                    )
            node.K = kids
            return node

        tree_root.K = pikepdf.Array([write(structure.root, tree_root)])
        numbers = pikepdf.Array()
        for index, page in enumerate(pages):
            page.StructParents = index
            page.Tabs = pikepdf.Name.S  # tab through annotations in structure order
            owners = structure.pages.get(index + 1, [])
            numbers.append(index)
            numbers.append(document.make_indirect(pikepdf.Array([written[id(e)] for e in owners])))
        tree_root.ParentTree = document.make_indirect(pikepdf.Dictionary(Nums=numbers))
        tree_root.ParentTreeNextKey = len(pages)
        catalog = document.Root
        catalog.StructTreeRoot = tree_root
        catalog.MarkInfo = pikepdf.Dictionary(Marked=True)
        catalog.Lang = pikepdf.String(structure.language)
        preferences = catalog.get("/ViewerPreferences", pikepdf.Dictionary())
        preferences.DisplayDocTitle = True
        catalog.ViewerPreferences = preferences
        output = io.BytesIO()
        document.save(output, object_stream_mode=pikepdf.ObjectStreamMode.disable)
        return output.getvalue()


def _pdf_value(value: Any) -> pikepdf.Object:
    if isinstance(value, str):
        return pikepdf.String(value)
    if isinstance(value, list):
        return pikepdf.Array(value)
    return pikepdf.Object.parse(str(value).encode())
