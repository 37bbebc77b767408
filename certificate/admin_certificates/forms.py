"""Forms of the certificate admin pages (Flask-WTF: CSRF on every one)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length


class SearchForm(FlaskForm):
    """A certificate number as printed (case, spaces and hyphens forgiven)."""

    number = StringField(
        _l("Certificate number"),
        validators=[DataRequired(message=_l("is required")), Length(max=100)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )


class RevokeForm(FlaskForm):
    """Why the certificate is revoked; kept in the audit log."""

    reason = TextAreaField(
        _l("Reason for revocation"),
        validators=[DataRequired(message=_l("is required")), Length(max=500)],
        description=_l(
            "Kept in the audit log. Verifiers are told only that the certificate is revoked."
        ),
    )
