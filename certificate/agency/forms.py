"""HTML forms of the officer portal, and the applicant's reply to an officer's question.

The answer form only collects input: validation is
:class:`country_adapters.documents.AnswerIn`'s, the same model the agency API
uses, so an answer typed in the portal obeys exactly the API's rules.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from pydantic import ValidationError
from wtforms import (
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.fields.core import Field
from wtforms.validators import DataRequired, Length

from certificate.agency.service import MAX_QUESTION_LENGTH
from certificate.errors import validation_fields
from certificate.i18n import current_language
from certificate.issuance.i18n import category_words
from certificate.web.problems import Problem, humanise
from country_adapters.documents import AnswerIn
from country_adapters.records import CATEGORIES

RECORD_ROWS = 3
MAX_RECORD_ROWS = 50  # AnswerIn accepts at most 50 records
ADD_RECORD_ROWS = 3

OUTCOME_LABELS = {
    "no_record": _l("No record: the agency holds no criminal record about this person"),
    "record_found": _l("Record found: list every conviction below"),
    "identity_unconfirmed": _l("Identity unconfirmed: the agency cannot tell who this person is"),
}
OUTCOME_SHORT = {
    "no_record": _l("No record"),
    "record_found": _l("Record found"),
    "identity_unconfirmed": _l("Identity unconfirmed"),
}
RECORD_FIELDS = ("offence", "category", "date", "court", "sentence")


def _category_choices() -> list[SelectChoice]:
    """The documented record categories, in the page's language."""
    language = current_language()
    return [SelectChoice("", gettext("Choose a category"))] + [
        SelectChoice(code, category_words(language, code)) for code in CATEGORIES
    ]


class RecordForm(Form):
    """One conviction; a row left entirely blank is ignored."""

    offence = StringField(_l("Offence"))
    category = SelectField(
        _l("Category"),
        choices=_category_choices,
        validate_choice=False,  # AnswerIn names a bad code, as the agency API does
    )
    date = StringField(
        _l("Date"), render_kw={"placeholder": "YYYY-MM-DD", "inputmode": "numeric", "maxlength": 10}
    )
    court = StringField(_l("Court"))
    sentence = StringField(_l("Sentence"))


class AnswerForm(FlaskForm):
    """An agency's answer to one query, as typed by an officer (or an admin)."""

    outcome = RadioField(
        _l("Answer"),
        choices=[SelectChoice(value, label) for value, label in OUTCOME_LABELS.items()],
        validate_choice=False,
    )
    records = FieldList(FormField(RecordForm), min_entries=RECORD_ROWS, max_entries=MAX_RECORD_ROWS)
    reference = StringField(
        _l("Your reference"),
        description=_l("The agency's own reference for this search, if it has one."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._record_rows: list[int] = []

    def add_record_rows(self, count: int = ADD_RECORD_ROWS) -> None:
        """More empty record rows (the "add rows" button, which works without JavaScript)."""
        for _ in range(count):
            if len(self.records) < MAX_RECORD_ROWS:
                self.records.append_entry()

    def to_payload(self) -> dict[str, Any]:
        """The answer in :class:`AnswerIn`'s shape; blank record rows are skipped."""
        payload: dict[str, Any] = {}
        outcome = _text(self.outcome)
        if outcome:
            payload["outcome"] = outcome
        records: list[dict[str, str]] = []
        self._record_rows = []
        for row, entry in enumerate(self.records):
            values = {name: _text(entry.form[name]) for name in RECORD_FIELDS}
            if not any(values.values()):
                continue
            records.append({name: value for name, value in values.items() if value})
            self._record_rows.append(row)
        payload["records"] = records
        reference = _text(self.reference)
        if reference:
            payload["reference"] = reference
        return payload

    def validated(self) -> tuple[AnswerIn | None, list[Problem]]:
        """The answer validated by the agency API's own model, or the problems to show."""
        try:
            return AnswerIn.model_validate(self.to_payload()), []
        except ValidationError as exc:
            return None, self.problems(validation_fields(exc))

    def problems(self, fields: dict[str, str]) -> list[Problem]:
        """Each model error (path → message) as a problem naming its form field.

        Call after :meth:`to_payload`, whose row numbering the paths follow.
        """
        return [self._problem(path, humanise(message)) for path, message in fields.items()]

    def _problem(self, path: str, message: str) -> Problem:
        parts = path.split(".")
        if parts[0] == "outcome":
            return Problem(path, _outcome_message(message), "outcome-0", gettext("Answer"))
        if parts[0] == "reference":
            return Problem(path, message, self.reference.id, gettext("Your reference"))
        if parts[0] == "records":
            if len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) < len(self._record_rows):
                row = self._record_rows[int(parts[1])]
                entry = self.records[row].form
                name = parts[2] if len(parts) > 2 and parts[2] in RECORD_FIELDS else "offence"
                field: Field = entry[name]
                return Problem(
                    path,
                    message,
                    field.id,
                    gettext("Record %(number)d: %(field)s", number=row + 1, field=field.label.text),
                )
            return Problem(path, message, self.records[0].form.offence.id, gettext("Records"))
        return Problem(path, message, None, path)


class QuestionForm(FlaskForm):
    """An officer's question to the applicant."""

    question = TextAreaField(
        _l("Your question to the applicant"),
        validators=[
            DataRequired(message=_l("is required")),
            Length(
                max=MAX_QUESTION_LENGTH, message=f"must be at most {MAX_QUESTION_LENGTH} characters"
            ),
        ],
        description=_l(
            "For example, a former name or an address you need to identify the person. "
            "The deadline pauses until the applicant replies."
        ),
        render_kw={"rows": 4},
    )


class ReplyForm(FlaskForm):
    """The applicant's reply to an officer's question."""

    reply = TextAreaField(
        _l("Your reply"),
        validators=[
            DataRequired(message=_l("is required")),
            Length(
                max=MAX_QUESTION_LENGTH, message=f"must be at most {MAX_QUESTION_LENGTH} characters"
            ),
        ],
        render_kw={"rows": 4},
    )


def _outcome_message(message: str) -> str:
    if message in ("is required", "is not one of the choices offered"):
        return "choose one of the three answers"
    return message


def _text(field: Field) -> str:
    value = field.data
    return value.strip() if isinstance(value, str) else ""
