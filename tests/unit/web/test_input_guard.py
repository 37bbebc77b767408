"""The JSON depth limit, counted on the raw bytes before any parser sees them."""

from __future__ import annotations

import pytest

from certificate.input_guard import MAX_JSON_DEPTH, json_too_deep


def _nested(levels: int) -> bytes:
    return b'{"a": ' * levels + b"1" + b"}" * levels


@pytest.mark.parametrize("levels", [0, 1, MAX_JSON_DEPTH])
def test_bodies_within_the_limit_pass(levels: int) -> None:
    assert not json_too_deep(_nested(levels))


def test_a_body_one_level_deeper_is_refused() -> None:
    assert json_too_deep(_nested(MAX_JSON_DEPTH + 1))
    assert json_too_deep(b"[" * (MAX_JSON_DEPTH + 1))  # unclosed: counted all the same


def test_brackets_inside_strings_do_not_count() -> None:
    """More brackets than the limit, all but one inside strings (escaped quotes too)."""
    body = b'{"token": "' + b"[{" * MAX_JSON_DEPTH + b'\\"[[[", "b": ["x"]}'
    assert body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH
    assert not json_too_deep(body)
    assert json_too_deep(b'{"s": "]]]]", "t": ' + _nested(MAX_JSON_DEPTH) + b"}")
