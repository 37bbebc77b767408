"""The ID checker's form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, StringField
from wtforms.validators import DataRequired, Length


class IdentityCheckForm(FlaskForm):
    """What the checker typed from the code and the document in their hands."""

    code = StringField("Identity code", validators=[DataRequired(), Length(max=20)])
    document_type = StringField(
        "Document type", default="passport", validators=[DataRequired(), Length(max=30)]
    )
    document_number = StringField("Document number", validators=[DataRequired(), Length(max=40)])
    issuing_country = StringField(
        "Issuing country (ISO code)", validators=[DataRequired(), Length(min=2, max=2)]
    )
    decision = RadioField(
        "Your decision",
        choices=[
            ("confirmed", "The person is the one named, and the document is theirs"),
            ("refused", "I refuse: the person or the document does not match"),
        ],
        validators=[DataRequired()],
    )
