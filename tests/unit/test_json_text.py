"""JSON text (a request's body, a token's header and claims) is read by orjson where it reads
what the standard library reads, and by the standard library everywhere else: the same
document, or the same refusal, for any text."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from certificate import json_text
from certificate.api_common import json_from_bytes
from certificate.errors import ApiError
from certificate.input_guard import nul_field


def _standard(raw: bytes) -> str:
    """What the body was read as before orjson: the document's repr, or a refusal."""
    try:
        value = json.loads(raw)
    except ValueError:
        return "refused"
    if value is None or nul_field(value) is not None:
        return "refused"
    return repr(value)


def _ours(raw: bytes) -> str:
    try:
        return repr(json_from_bytes(raw))
    except ApiError:
        return "refused"


_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()  # beyond 64 bits too, which orjson would read as floats
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),  # lone surrogates included
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)


@given(_VALUES, st.booleans())
@example({"n": 2**64}, False)
@example({"x": math.nan}, False)
@example({"s": "\ud800"}, False)
def test_any_document_is_read_as_the_standard_library_reads_it(value: Any, ascii: bool) -> None:
    raw = json.dumps(value, ensure_ascii=ascii).encode("utf-8", "surrogatepass")
    assert _ours(raw) == _standard(raw)


@given(st.binary(max_size=40) | st.text('{}[]",:0123456789.eE+-truefalsn \\u\t', max_size=40))
@example(b"\xef\xbb\xbf{}")
@example('{"a": 1}'.encode("utf-16"))
def test_any_text_is_read_or_refused_as_the_standard_library_does(raw: bytes | str) -> None:
    data = raw.encode() if isinstance(raw, str) else raw
    assert _ours(data) == _standard(data)


def _read(read: Any, raw: bytes) -> str:
    try:
        return repr(read(raw))
    except ValueError as exc:
        return f"ValueError {type(exc).__name__}"


@given(st.binary(max_size=40) | _VALUES.map(lambda value: json.dumps(value).encode()))
@example(b"1" * 19)
@example(b"NaN")
def test_loads_is_json_loads(raw: bytes) -> None:
    assert _read(json_text.loads, raw) == _read(json.loads, raw)
