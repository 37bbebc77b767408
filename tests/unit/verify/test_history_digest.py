"""The digest a batch's audit event seals must never change its form: ``audit verify``
recomputes it for every batch ever sealed, by this version and by earlier ones."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from certificate.verify.history import _line, verifications_digest

ROWS = [
    {
        "id": 7,
        "certificate_id": "AB88-CENR-Z4P2-N1BD-N4Z8-AVN1-0X6H",
        "verified_at": datetime(2026, 12, 7, 2, 30, 5, 123456, tzinfo=UTC),
        "method": "token",
        "result": "valid",
        "organisation": None,
    },
    {
        "id": 9,
        "certificate_id": "AB88-CENR-Z4P2-N1BD-N4Z8-AVN1-0X6H",
        "verified_at": datetime(2026, 12, 7, 2, 30, 6, tzinfo=UTC),
        "method": "number",
        "result": "revoked",
        "organisation": "École Française d'Égypte — مدرسة",
    },
]


def test_the_digest_of_known_rows_is_the_one_sealed_since_the_first_batch() -> None:
    # one JSON line a row ([id, certificate, time to the second, method, result,
    # organisation], non-ASCII as is), SHA-256 over the lines in id order
    assert verifications_digest(ROWS) == (
        "aeafdb3b9a293c5a9841a08197d6eb7cca3e22c0b95352bac73e05cea2fe01da"
    )


def test_any_field_of_any_row_changes_the_digest() -> None:
    sealed = verifications_digest(ROWS)
    for index in range(len(ROWS)):
        for field, value in [("id", 8), ("result", "expired"), ("organisation", "Acme")]:
            changed = [dict(row) for row in ROWS]
            changed[index][field] = value
            assert verifications_digest(changed) != sealed, (index, field)
    assert verifications_digest(ROWS[:1]) != sealed


@settings(max_examples=300)
@given(
    st.integers(min_value=1, max_value=2**63 - 1),
    st.text(),
    st.datetimes(timezones=st.just(UTC)),
    st.text(),
    st.text(),
    st.none() | st.text(),
)
def test_each_line_is_the_rows_json(
    id_: int,
    certificate_id: str,
    verified_at: datetime,
    method: str,
    result: str,
    organisation: str | None,
) -> None:
    # the lines are written out by hand for speed; json.dumps is what they must equal
    row = {
        "id": id_,
        "certificate_id": certificate_id,
        "verified_at": verified_at,
        "method": method,
        "result": result,
        "organisation": organisation,
    }
    fields = [id_, certificate_id, verified_at.isoformat(timespec="seconds"), method, result]
    expected = json.dumps([*fields, organisation], ensure_ascii=False) + "\n"
    assert _line(row) == expected
