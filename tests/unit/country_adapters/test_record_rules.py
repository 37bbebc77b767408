"""The record rules shared by the agency API, the portal and adapters."""

from __future__ import annotations

from datetime import date

import pytest

from certificate.issuance.i18n import LANGUAGES, category_words
from country_adapters.base import Record
from country_adapters.records import CATEGORIES, date_problem, record_problems

TODAY = date(2026, 12, 6)


@pytest.mark.parametrize("value", ["2010", "2010-02", "2012-02-29", "2026-12-06", "2026-12"])
def test_real_past_dates_in_three_precisions_pass(value: str) -> None:
    assert date_problem(value, TODAY) is None


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("2010-13-45", "is not a real calendar date"),
        ("2099-99-99", "is not a real calendar date"),
        ("2011-02-29", "is not a real calendar date"),
        ("2010-00", "is not a real calendar date"),
        ("0000", "is not a real calendar date"),
        ("2026-12-07", "lies in the future"),
        ("2027", "lies in the future"),
        ("2027-01", "lies in the future"),
        ("20100101", "must be a date written YYYY, YYYY-MM or YYYY-MM-DD"),
        ("2010-1-5", "must be a date written YYYY, YYYY-MM or YYYY-MM-DD"),
        ("last year", "must be a date written YYYY, YYYY-MM or YYYY-MM-DD"),
        ("", "must be a date written YYYY, YYYY-MM or YYYY-MM-DD"),
    ],
)
def test_unreal_future_or_malformed_dates_are_named(value: str, problem: str) -> None:
    assert date_problem(value, TODAY) == problem


def test_a_record_names_each_broken_rule() -> None:
    good = Record("Assault", "violence", "2015-06", "Court", "Fine")
    assert record_problems(good, TODAY) == {}
    bad = Record("Assault", "child_sexual_abus", "2099-99-99", "Court", "Fine")
    problems = record_problems(bad, TODAY)
    assert set(problems) == {"category", "date"}
    assert "child_sexual_abuse" in problems["category"]  # the message lists the codes


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_category_has_words_in_every_language(language: str) -> None:
    words = {category_words(language, code) for code in CATEGORIES}
    assert len(words) == len(CATEGORIES)  # distinct
    for code in CATEGORIES:
        assert "_" not in category_words(language, code)
