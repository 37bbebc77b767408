"""The HTML filing form.

The form only collects input: validation is :class:`ApplicationIn`'s, the same
model the JSON API uses. :meth:`ApplicationForm.to_payload` gathers the fields
into the API's body shape and :meth:`ApplicationForm.problems` maps the model's
error paths (``residences.1.to``) back to the fields the applicant sees.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.fields.core import Field
from wtforms.widgets import DateInput, MonthInput

from certificate.applications.schemas import DOCUMENT_TYPES, LANGUAGES
from certificate.i18n import current_language, language
from certificate.i18n.cldr import country_names
from certificate.i18n.words import DOCUMENT_TYPES as DOCUMENT_WORDS
from certificate.i18n.words import word
from certificate.runtime import runtime
from certificate.web.problems import Problem, humanise

NATIONALITY_ROWS = 3
RESIDENCE_ROWS = 6
MAX_RESIDENCE_ROWS = 40

PARTICIPATING = _l("participating")

CONSENT_TEXT = _l(
    "I consent to this service sending my identity (names, date and place of birth, "
    "nationalities and identity document) and the periods I lived in each country to the "
    "national criminal record agency of every country listed on this form, each agency "
    "searching its criminal records about me, and its answer being printed on my certificate."
)


def country_choices() -> list[SelectChoice]:
    """Every country in the page's language, those an adapter serves marked as participating."""
    covered = set(runtime().registry.countries())
    participating = str(PARTICIPATING)
    choices = [SelectChoice("", gettext("— choose a country —"))]
    for code, name in country_names(current_language()):
        label = f"{name} — {participating}" if code in covered else name
        choices.append(SelectChoice(code, label))
    return choices


def _language_choices() -> list[SelectChoice]:
    return [SelectChoice(code, language(code).native_name, {"lang": code}) for code in LANGUAGES]


def _document_choices() -> list[SelectChoice]:
    return [SelectChoice(code, word(DOCUMENT_WORDS, code)) for code in DOCUMENT_TYPES]


def _country_select(label: str) -> SelectField:
    return SelectField(label, choices=country_choices, validate_choice=False, default="")


class ResidenceForm(Form):
    """One period of residence; a row left entirely blank is ignored."""

    country = _country_select(_l("Country"))
    start = StringField(
        _l("From (month)"), widget=MonthInput(), render_kw={"placeholder": "YYYY-MM"}
    )
    end = StringField(
        _l("To (month)"),
        widget=MonthInput(),
        render_kw={"placeholder": "YYYY-MM"},
        description=_l("Leave empty if you still live there."),
    )


class ApplicationForm(FlaskForm):
    """Everything an application needs, in the order a person fills it in."""

    submission = HiddenField()

    family_name = StringField(_l("Family name"), render_kw={"autocomplete": "family-name"})
    given_names = StringField(_l("Given names"), render_kw={"autocomplete": "given-name"})
    latin_family_name = StringField(
        _l("Family name in Latin letters"), render_kw={"lang": "und-Latn", "dir": "ltr"}
    )
    latin_given_names = StringField(
        _l("Given names in Latin letters"), render_kw={"lang": "und-Latn", "dir": "ltr"}
    )
    other_names = TextAreaField(
        _l("Other names you have been known by"),
        description=_l("Earlier or alternative full names, separated by commas or one per line."),
        render_kw={"rows": 3},
    )
    date_of_birth = StringField(
        _l("Date of birth"),
        widget=DateInput(),
        render_kw={"autocomplete": "bday", "placeholder": "YYYY-MM-DD"},
    )
    birth_city = StringField(_l("Town or city of birth"))
    birth_country = _country_select(_l("Country of birth"))
    nationalities = FieldList(
        _country_select(_l("Nationality")), min_entries=NATIONALITY_ROWS, max_entries=5
    )

    document_type = SelectField(
        _l("Type of document"), choices=_document_choices, default="passport"
    )
    document_number = StringField(_l("Document number"))
    document_country = _country_select(_l("Issuing country"))
    document_expires = StringField(
        _l("Expiry date"), widget=DateInput(), render_kw={"placeholder": "YYYY-MM-DD"}
    )

    residences = FieldList(
        FormField(ResidenceForm),
        min_entries=RESIDENCE_ROWS,
        max_entries=MAX_RESIDENCE_ROWS,
    )

    language = SelectField(
        _l("Language of the certificate"), choices=_language_choices, default="en"
    )
    purpose = StringField(
        _l("Purpose"),
        description=_l("What the certificate is for, e.g. “Teacher at a primary school”."),
    )
    consent = BooleanField(CONSENT_TEXT)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not _usable_key(self.submission.data):
            self.submission.data = secrets.token_urlsafe(18)
        self._nationality_rows: list[int] = []
        self._residence_rows: list[int] = []

    def to_payload(self) -> dict[str, Any]:
        """The filing in :class:`ApplicationIn`'s shape; blank inputs are left out.

        A field left blank is absent from the payload, so the model reports it
        as "is required"; blank nationality and residence rows are skipped.
        """
        applicant: dict[str, Any] = {}
        _put(applicant, "family_name", _text(self.family_name))
        _put(applicant, "given_names", _text(self.given_names))
        latin: dict[str, Any] = {}
        _put(latin, "family_name", _text(self.latin_family_name))
        _put(latin, "given_names", _text(self.latin_given_names))
        if latin:
            applicant["latin_name"] = latin
        applicant["other_names"] = [
            name.strip() for name in re.split(r"[,\n]", self.other_names.data or "") if name.strip()
        ]
        _put(applicant, "date_of_birth", _text(self.date_of_birth))
        place: dict[str, Any] = {}
        _put(place, "city", _text(self.birth_city))
        _put(place, "country", _text(self.birth_country))
        applicant["place_of_birth"] = place

        self._nationality_rows = [
            row for row, entry in enumerate(self.nationalities) if _text(entry)
        ]
        applicant["nationalities"] = [
            _text(self.nationalities[row]) for row in self._nationality_rows
        ]

        document: dict[str, Any] = {}
        _put(document, "type", _text(self.document_type))
        _put(document, "number", _text(self.document_number))
        _put(document, "issuing_country", _text(self.document_country))
        _put(document, "expires", _text(self.document_expires))
        applicant["identity_document"] = document

        residences: list[dict[str, Any]] = []
        self._residence_rows = []
        for row, entry in enumerate(self.residences):
            period = entry.form
            country, start, end = _text(period.country), _text(period.start), _text(period.end)
            if not (country or start or end):
                continue
            residence: dict[str, Any] = {}
            _put(residence, "country", country)
            _put(residence, "from", start)
            residence["to"] = end or None
            residences.append(residence)
            self._residence_rows.append(row)

        payload: dict[str, Any] = {"applicant": applicant, "residences": residences}
        _put(payload, "language", _text(self.language))
        _put(payload, "purpose", _text(self.purpose))
        payload["consent"] = bool(self.consent.data)
        return payload

    def problems(self, fields: dict[str, str]) -> list[Problem]:
        """Each model error (path → message) as a problem naming the form field it belongs to.

        Call after :meth:`to_payload`, whose row numbering the paths follow.
        """
        return [self._problem(path, humanise(message)) for path, message in fields.items()]

    def _problem(self, path: str, message: str) -> Problem:
        field, label = self._locate(path.split("."))
        if field is None:
            return Problem(path, message, None, label or path)
        return Problem(path, message, field.id, label or str(field.label.text))

    def _locate(self, parts: list[str]) -> tuple[Field | None, str | None]:
        """The field (and a label naming it in words) an error path points to."""
        head, rest = parts[0], parts[1:]
        if head == "applicant":
            return self._locate_applicant(rest)
        if head == "residences":
            return self._locate_residence(rest)
        if head in ("language", "purpose", "consent") and not rest:
            field = self[head]
            return field, gettext("Consent") if head == "consent" else None
        return None, None

    def _locate_applicant(self, parts: list[str]) -> tuple[Field | None, str | None]:
        direct = {
            "family_name": self.family_name,
            "given_names": self.given_names,
            "other_names": self.other_names,
            "date_of_birth": self.date_of_birth,
        }
        nested = {
            ("latin_name", "family_name"): self.latin_family_name,
            ("latin_name", "given_names"): self.latin_given_names,
            ("latin_name",): self.latin_family_name,
            ("place_of_birth", "city"): self.birth_city,
            ("place_of_birth", "country"): self.birth_country,
            ("place_of_birth",): self.birth_city,
            ("identity_document", "type"): self.document_type,
            ("identity_document", "number"): self.document_number,
            ("identity_document", "issuing_country"): self.document_country,
            ("identity_document", "expires"): self.document_expires,
            ("identity_document",): self.document_type,
        }
        if not parts:
            return None, gettext("Applicant")
        if parts[0] in direct:
            field = direct[parts[0]]
            if parts[0] == "other_names" and len(parts) > 1 and parts[1].isdigit():
                return field, gettext("Other names (name %(number)d)", number=int(parts[1]) + 1)
            return field, None
        if parts[0] == "nationalities":
            if (
                len(parts) > 1
                and parts[1].isdigit()
                and int(parts[1]) < len(self._nationality_rows)
            ):
                row = self._nationality_rows[int(parts[1])]
                return self.nationalities[row], gettext("Nationality %(number)d", number=row + 1)
            return self.nationalities[0], gettext("Nationalities")
        key = tuple(parts[:2])
        if key in nested:
            return nested[key], None
        return None, None

    def _locate_residence(self, parts: list[str]) -> tuple[Field | None, str | None]:
        if not parts or not parts[0].isdigit() or int(parts[0]) >= len(self._residence_rows):
            return self.residences[0].form.country, gettext("Residence periods")
        row = self._residence_rows[int(parts[0])]
        period = self.residences[row].form
        names = {"country": period.country, "from": period.start, "to": period.end}
        sub = parts[1] if len(parts) > 1 else "country"
        field = names.get(sub, period.country)
        return field, gettext(
            "Residence period %(number)d: %(field)s", number=row + 1, field=field.label.text
        )


def _text(field: Field) -> str:
    value = field.data
    return value.strip() if isinstance(value, str) else ""


def _put(target: dict[str, Any], key: str, value: str) -> None:
    if value:
        target[key] = value


def _usable_key(value: object) -> bool:
    return (
        isinstance(value, str)
        and 16 <= len(value) <= 64
        and value.replace("-", "").replace("_", "").isalnum()
    )
