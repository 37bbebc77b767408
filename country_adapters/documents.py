"""The JSON shapes agencies see: a query, and an answer.

One definition serves the agency API (agencies fetch queries and post
answers) and the push adapter (we send queries to an agency's endpoint and
read its answer), so an agency sees the same document either way.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from country_adapters.base import Answer, Outcome, Query, Record
from country_adapters.records import category_problem, date_problem


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def query_document(query: Query) -> dict[str, Any]:
    """``{"id", "country", "subject", "requested_at", "deadline"}``.

    ``subject`` is the applicant object as filed (``latin_name`` the name as the
    identity document's machine-readable zone writes it, or null for a name filed
    in Latin script without one) plus ``residences`` holding only the periods in
    the query's country.
    """
    person = query.subject
    return {
        "id": query.check_id,
        "country": query.country,
        "subject": {
            "family_name": person.family_name,
            "given_names": person.given_names,
            "latin_name": (
                {"family_name": person.latin_family_name, "given_names": person.latin_given_names}
                if person.latin_family_name is not None
                else None
            ),
            "other_names": list(person.other_names),
            "date_of_birth": person.date_of_birth.isoformat(),
            "place_of_birth": {
                "city": person.place_of_birth_city,
                "country": person.place_of_birth_country,
            },
            "nationalities": list(person.nationalities),
            "identity_document": {
                "type": person.document_type,
                "number": person.document_number,
                "issuing_country": person.document_issuing_country,
                "expires": person.document_expires.isoformat(),
            },
            "residences": [{"from": r.start, "to": r.end} for r in query.residences],
        },
        "requested_at": _iso(query.requested_at),
        "deadline": _iso(query.deadline),
    }


def _one_line(value: object) -> object:
    """Refuse control characters (CR, LF, NUL, ...) before any whitespace is stripped:
    an agency's text is printed on certificates and written to logs, one line each."""
    if isinstance(value, str) and any(unicodedata.category(c) == "Cc" for c in value):
        raise ValueError("must be one line of text without control characters")
    return value


OneLine = BeforeValidator(_one_line)
Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300), OneLine
]


class RecordIn(BaseModel):
    """One conviction as an agency reports it."""

    model_config = ConfigDict(extra="forbid")

    offence: Text
    category: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), OneLine
    ]
    date: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10)]
    court: Text
    sentence: Text

    @field_validator("category", "date")
    @classmethod
    def _record_rules(cls, value: str, info: ValidationInfo) -> str:
        """The rules of :mod:`country_adapters.records`, shared with adapters."""
        check = category_problem if info.field_name == "category" else date_problem
        problem = check(value)
        if problem:
            raise ValueError(problem)
        return value


class AnswerIn(BaseModel):
    """An agency's answer to a query."""

    model_config = ConfigDict(extra="forbid")

    outcome: Literal["no_record", "record_found", "identity_unconfirmed"]
    records: list[RecordIn] = Field(max_length=50)
    reference: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), OneLine] | None
    ) = None

    @field_validator("records")
    @classmethod
    def _records_match_outcome(
        cls, records: list[RecordIn], info: ValidationInfo
    ) -> list[RecordIn]:
        outcome = info.data.get("outcome")
        if outcome == "record_found" and not records:
            raise ValueError("required and non-empty for record_found")
        if outcome not in (None, "record_found") and records:
            raise ValueError(f"must be empty for {outcome}")
        return records

    def to_answer(self, answered_at: datetime | None = None) -> Answer:
        """The adapter-level answer."""
        return Answer(
            outcome=Outcome(self.outcome),
            records=tuple(Record(**r.model_dump()) for r in self.records),
            answered_at=answered_at,
            reference=self.reference or None,
        )
