"""The app's JSON provider writes compact answers with orjson; what it writes is the JSON
document Flask's own provider writes."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.json.provider import DefaultJSONProvider
from hypothesis import given
from hypothesis import strategies as st

from certificate.web.json_provider import CompactJSONProvider

COMPACT = {"separators": (",", ":")}


@pytest.fixture(scope="module")
def providers() -> tuple[CompactJSONProvider, DefaultJSONProvider]:
    app = Flask(__name__)
    return CompactJSONProvider(app), DefaultJSONProvider(app)


@dataclass
class Point:
    x: int
    when: date


def test_what_flask_writes_for_dates_decimals_uuids_and_dataclasses(
    providers: tuple[CompactJSONProvider, DefaultJSONProvider],
) -> None:
    ours, flasks = providers
    value = {
        "b": datetime(2026, 12, 7, 8, 30, tzinfo=UTC),
        "a": date(2026, 12, 7),
        "amount": Decimal("12.50"),
        "id": uuid.UUID(int=7),
        "point": Point(1, date(2000, 2, 29)),
        "by_number": {10: "keys that are not strings", 9: "sorted as numbers"},
    }
    assert ours.dumps(value, **COMPACT) == flasks.dumps(value, **COMPACT)
    # Flask's HTTP dates, not orjson's ISO dates
    assert '"b":"Mon, 07 Dec 2026 08:30:00 GMT"' in ours.dumps(value, **COMPACT)


def test_non_ascii_is_written_as_utf8_the_same_document(
    providers: tuple[CompactJSONProvider, DefaultJSONProvider],
) -> None:
    ours, flasks = providers
    value = {"reason": "الشهادة سارية", "name": "Zoë"}
    assert ours.dumps(value, **COMPACT) == '{"name":"Zoë","reason":"الشهادة سارية"}'
    assert json.loads(ours.dumps(value, **COMPACT)) == json.loads(flasks.dumps(value, **COMPACT))


def test_other_options_and_what_orjson_refuses_are_left_to_flask(
    providers: tuple[CompactJSONProvider, DefaultJSONProvider],
) -> None:
    ours, flasks = providers
    assert ours.dumps({"a": [1]}, indent=2) == flasks.dumps({"a": [1]}, indent=2)
    assert ours.dumps({"a": 1}) == '{"a": 1}'  # the standard library's default separators
    assert ours.dumps({"big": 2**70}, **COMPACT) == '{"big":1180591620717411303424}'
    with pytest.raises(TypeError, match="set"):
        ours.dumps({"a": {1, 2}}, **COMPACT)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(_JSON)
def test_any_json_value_is_the_same_text(value: Any) -> None:
    app = Flask(__name__)
    ours = CompactJSONProvider(app).dumps(value, **COMPACT)
    assert ours == json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    assert json.loads(ours) == json.loads(DefaultJSONProvider(app).dumps(value, **COMPACT))


@given(
    st.recursive(
        st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**63), 2**63 - 1),
        lambda children: st.lists(children, max_size=4),
        max_leaves=10,
    )
)
def test_any_number_is_the_same_value(value: Any) -> None:
    app = Flask(__name__)
    ours = CompactJSONProvider(app).dumps(value, **COMPACT)
    assert repr(json.loads(ours)) == repr(value)  # the same value, -0.0 and int or float too
