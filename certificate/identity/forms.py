"""The ID checker's form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length


class IdentityCheckForm(FlaskForm):
    """What the checker typed from the code and the document in their hands."""

    code = StringField(_l("Identity code"), validators=[DataRequired(), Length(max=20)])
    document_type = StringField(
        _l("Document type"), default="passport", validators=[DataRequired(), Length(max=30)]
    )
    document_number = StringField(
        _l("Document number"), validators=[DataRequired(), Length(max=40)]
    )
    issuing_country = StringField(
        _l("Issuing country (ISO code)"), validators=[DataRequired(), Length(min=2, max=2)]
    )
    decision = RadioField(
        _l("Your decision"),
        choices=[
            SelectChoice(
                "confirmed", _l("The person is the one named, and the document is theirs")
            ),
            SelectChoice("refused", _l("I refuse: the person or the document does not match")),
        ],
        validators=[DataRequired()],
    )
