"""The summary a certificate leads with: counts, words, and the colour they decide."""

from __future__ import annotations

import pytest

from certificate.issuance.summary import (
    content_verdict,
    summary_counts,
    summary_of_claims,
    summary_sentence,
)

MIXED = ["record_found", "record_found", "identity_unconfirmed", "not_covered"]


def test_counts_follow_the_contract() -> None:
    outcomes = [*MIXED, "no_record", "no_response", "failed"]
    assert summary_counts(outcomes) == {
        "countries": 7,
        "no_record": 1,
        "record_found": 2,
        "unconfirmed": 3,
        "not_covered": 1,
    }


@pytest.mark.parametrize(
    ("outcomes", "language", "sentence"),
    [
        (
            MIXED,
            "en",
            "Records found in 2 of 4 countries; 1 country could not confirm the identity; "
            "1 country not covered.",
        ),
        (["no_record"] * 3, "en", "No record in any of the 3 countries checked."),
        (
            ["no_record", "no_response", "failed"],
            "en",
            "No record confirmed in 1 of 3 countries; the others did not confirm; "
            "1 country did not answer by the deadline; 1 check failed.",
        ),
        (["record_found", "no_record"], "en", "Record found in 1 of 2 countries; no record in 1."),
        (
            MIXED,
            "fr",
            "Condamnations inscrites dans 2 pays sur 4 ; 1 pays n’a pas pu confirmer "
            "l’identité ; 1 pays non couvert.",
        ),
        (["no_record"], "es", "Sin antecedentes en el único país verificado."),
        (["record_found"], "ar", "توجد سوابق مسجلة في البلد الوحيد الذي تم التحقق منه."),
        (
            ["no_response"],
            "en",
            "The one country checked did not confirm that it holds no record; "
            "1 country did not answer by the deadline.",
        ),
    ],
)
def test_the_summary_in_words(outcomes: list[str], language: str, sentence: str) -> None:
    assert summary_sentence(outcomes, language) == sentence


@pytest.mark.parametrize(
    ("outcomes", "verdict"),
    [
        (MIXED, "record_found"),
        (["no_record", "record_found"], "record_found"),
        (["no_record", "not_covered"], "not_confirmed"),
        (["no_record", "failed"], "not_confirmed"),
        ([], "not_confirmed"),
        (["no_record", "no_record"], "no_record"),
    ],
)
def test_only_an_all_clear_answer_is_clear(outcomes: list[str], verdict: str) -> None:
    assert content_verdict(outcomes) == verdict


def test_claims_without_outcomes_have_no_summary() -> None:
    assert summary_of_claims(None) is None
    assert summary_of_claims({"c": "KE"}) is None
    assert summary_of_claims({"c": {"RF": "KE", "FA": "TH"}}) == {
        "countries": 2,
        "no_record": 0,
        "record_found": 1,
        "unconfirmed": 1,
        "not_covered": 0,
    }
