"""Hostile inputs the outside audit used: PDFs built to break a parser, and deep JSON.

Shared by ``tests/integration/web/test_hostile_input.py`` and ``tools/fuzz_api.py``.
Each PDF is small on the wire; what it would cost a careless parser is in its
builder's docstring.
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from collections.abc import Callable
from functools import cache

import httpx


def _pdf(objects: dict[int, bytes], root: int = 1) -> bytes:
    """A PDF with a classic cross-reference table over ``objects``."""
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offsets: dict[int, int] = {}
    for number, body in objects.items():
        offsets[number] = out.tell()
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    size = max(offsets) + 1
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % size)
    for number in range(1, size):
        out.write(b"%010d 00000 n \n" % offsets.get(number, 0))
    out.write(
        b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, root, xref)
    )
    return out.getvalue()


def nested_arrays_pdf(depth: int = 50_000) -> bytes:
    """The page tree holds an array nested ``depth`` deep: a recursive parser overflows."""
    nested = b"[" * depth + b"]" * depth
    return _pdf(
        {
            1: b"<< /Type /Catalog /Pages 2 0 R >>",
            2: b"<< /Type /Pages /Kids [] /Count 1 /Nested " + nested + b" >>",
        }
    )


def reference_loop_pdf() -> bytes:
    """The page tree is object 2, which is object 3, which is object 2 again."""
    return _pdf({1: b"<< /Type /Catalog /Pages 2 0 R >>", 2: b"3 0 R", 3: b"2 0 R"})


def huge_count_pdf() -> bytes:
    """``/Count 1e400``: a page count no integer holds."""
    return _pdf(
        {1: b"<< /Type /Catalog /Pages 2 0 R >>", 2: b"<< /Type /Pages /Kids [] /Count 1e400 >>"}
    )


@cache
def object_stream_bomb_pdf(inflated_mib: int = 256) -> bytes:
    """The page tree lives in an object stream that inflates to ``inflated_mib`` MiB.

    A quarter of a megabyte on the wire (Deflate's best ratio is about 1000:1);
    a parser that inflates the object stream whole needs 256 MiB of memory for
    each upload.
    A cross-reference stream places object 3 (the page tree) inside it.
    """
    header = b"3 0 "
    squeeze = zlib.compressobj(9)
    parts = [squeeze.compress(header + b"<< /Type /Pages /Kids [] /Count 1 /Pad (")]
    mebibyte = b"0" * (1024 * 1024)
    parts.extend(squeeze.compress(mebibyte) for _ in range(inflated_mib))
    parts += [squeeze.compress(b") >>"), squeeze.flush()]
    data = b"".join(parts)
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offsets: dict[int, int] = {}
    offsets[1] = out.tell()
    out.write(b"1 0 obj\n<< /Type /Catalog /Pages 3 0 R >>\nendobj\n")
    offsets[4] = out.tell()
    out.write(
        b"4 0 obj\n<< /Type /ObjStm /N 1 /First %d /Filter /FlateDecode /Length %d >>\n"
        b"stream\n%s\nendstream\nendobj\n" % (len(header), len(data), data)
    )
    offsets[5] = out.tell()
    rows = [
        struct.pack(">BIH", 0, 0, 65535),
        struct.pack(">BIH", 1, offsets[1], 0),
        struct.pack(">BIH", 0, 0, 0),
        struct.pack(">BIH", 2, 4, 0),  # object 3: the first object of object stream 4
        struct.pack(">BIH", 1, offsets[4], 0),
        struct.pack(">BIH", 1, offsets[5], 0),
    ]
    xref = b"".join(rows)
    out.write(
        b"5 0 obj\n<< /Type /XRef /Size 6 /W [1 4 2] /Root 1 0 R /Length %d >>\n"
        b"stream\n%s\nendstream\nendobj\n" % (len(xref), xref)
    )
    out.write(b"startxref\n%d\n%%%%EOF\n" % offsets[5])
    return out.getvalue()


HOSTILE_PDFS: dict[str, Callable[[], bytes]] = {
    "nested_arrays": nested_arrays_pdf,
    "reference_loop": reference_loop_pdf,
    "count_1e400": huge_count_pdf,
    "object_stream_bomb": object_stream_bomb_pdf,
}


def deep_json(depth: int = 50_000) -> bytes:
    """A JSON body whose ``token`` is an array nested ``depth`` deep."""
    return b'{"token": ' + b"[" * depth + b"]" * depth + b"}"


#: JSON endpoints the deep body is sent to, with the headers they need besides a bearer token.
DEEP_JSON_PATHS = ("/api/v1/verify", "/api/v1/accounts", "/api/v1/tokens", "/api/v1/applications")


def attack(http: httpx.Client) -> list[tuple[str, int]]:
    """Send every hostile input once; returns ``(what, status)`` for each answer."""
    answers: list[tuple[str, int]] = []
    page = http.get("/v").text
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    form = {"csrf_token": csrf.group(1)} if csrf else {}
    for name, build in HOSTILE_PDFS.items():
        pdf = build()
        for path in ("/api/v1/verify", "/v/upload"):
            files = {"file": (f"{name}.pdf", pdf, "application/pdf")}
            response = http.post(path, files=files, data=form if path == "/v/upload" else None)
            answers.append((f"{name} PDF to {path}", response.status_code))
    body = deep_json()
    for path in DEEP_JSON_PATHS:
        response = http.post(path, content=body, headers={"Content-Type": "application/json"})
        answers.append((f"JSON nested 50,000 deep to {path}", response.status_code))
    return answers
