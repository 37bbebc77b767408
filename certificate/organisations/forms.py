"""The employer's forms: a request to a candidate, an API key, a webhook, a CSV to verify."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from certificate.i18n import LANGUAGES
from certificate.organisations.requests import MAX_PURPOSE
from certificate.organisations.webhooks import EVENTS


class RequestForm(FlaskForm):
    """Ask a candidate, by e-mail, for their certificate."""

    email = StringField(
        _l("Candidate's e-mail address"),
        validators=[DataRequired(), Email(), Length(max=254)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    purpose = TextAreaField(
        _l("Purpose"),
        description=_l(
            "What the position is, so the candidate knows why you ask, e.g. Teacher, Nairobi."
        ),
        validators=[DataRequired(), Length(max=MAX_PURPOSE)],
    )
    language = SelectField(
        _l("Language of the e-mail"),
        choices=[
            SelectChoice(code, entry.native_name, render_kw={"lang": code})
            for code, entry in LANGUAGES.items()
        ],
    )


class ApiKeyForm(FlaskForm):
    """A label for a new API key."""

    name = StringField(
        _l("Label"),
        description=_l("Where the key is used, e.g. HR system."),
        validators=[Optional(), Length(max=100)],
    )


class WebhookForm(FlaskForm):
    """An endpoint for the organisation's events."""

    url = StringField(
        _l("Endpoint URL"),
        description=_l("An https address on the public internet."),
        validators=[DataRequired(), Length(max=2000)],
        render_kw={"spellcheck": "false", "inputmode": "url"},
    )
    events = SelectMultipleField(
        _l("Events"),
        choices=[SelectChoice(event) for event in EVENTS],
        default=list(EVENTS),
        validators=[DataRequired()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )


class CsvForm(FlaskForm):
    """A CSV file of certificates to verify."""

    file = FileField(
        _l("CSV file"),
        description=_l(
            "A header row naming the columns certificate_id and date_of_birth "
            "(written YYYY-MM-DD), or token; at most 1,000 rows."
        ),
        render_kw={"accept": "text/csv,.csv"},
    )
