"""Forms of the admin pages about checks and approvals (Flask-WTF, with CSRF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from certificate.admin.approvals import MAX_NOTE_LENGTH
from certificate.agency.forms import AnswerForm

MAX_REASON_LENGTH = 500


class RetryForm(FlaskForm):
    """No fields: only the CSRF token, so no other site can make an admin retry a check."""


class HandAnswerForm(AnswerForm):
    """An agency's answer entered by an admin, with the reason for doing it by hand."""

    reason = TextAreaField(
        _l("Why you are answering by hand"),
        validators=[
            DataRequired(message=_l("is required")),
            Length(
                max=MAX_REASON_LENGTH, message=f"must be at most {MAX_REASON_LENGTH} characters"
            ),
        ],
        description=_l(
            "For example: “the agency's endpoint rejected our query; its answer came by "
            "registered letter, reference 2026/118”. Kept in the audit log."
        ),
        render_kw={"rows": 3},
    )


class ApproveForm(FlaskForm):
    """No fields: only the CSRF token, so no other site can make an admin approve an action."""


class RejectForm(FlaskForm):
    """Reject (or, for one's own request, withdraw) a pending action, with an optional note."""

    note = TextAreaField(
        _l("Note (optional)"),
        validators=[
            Optional(),
            Length(max=MAX_NOTE_LENGTH, message=f"must be at most {MAX_NOTE_LENGTH} characters"),
        ],
        description=_l("Why you reject it. Kept in the audit log."),
        render_kw={"rows": 2},
    )
