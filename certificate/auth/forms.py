"""HTML forms for signing up, logging in and logging out (Flask-WTF, with CSRF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Regexp

from certificate.auth.service import MIN_PASSWORD_LENGTH


class SignupForm(FlaskForm):
    """A new applicant account."""

    name = StringField(
        _l("Your name"),
        validators=[DataRequired(message=_l("is required")), Length(max=200)],
        render_kw={"autocomplete": "name"},
    )
    email = EmailField(
        _l("E-mail address"),
        validators=[
            DataRequired(message=_l("is required")),
            Email(message=_l("is not a valid e-mail address")),
            Length(max=254),
        ],
        render_kw={"autocomplete": "email"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(message=_l("is required")),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=200,
                message=_l("must be %(count)d to 200 characters", count=MIN_PASSWORD_LENGTH),
            ),
        ],
        description=_l("At least %(count)d characters.", count=MIN_PASSWORD_LENGTH),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Password again"),
        validators=[
            DataRequired(message=_l("is required")),
            EqualTo("password", message=_l("does not match the password")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class LoginForm(FlaskForm):
    """E-mail and password."""

    email = EmailField(
        _l("E-mail address"),
        validators=[DataRequired(message=_l("is required")), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(message=_l("is required")), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )


class LogoutForm(FlaskForm):
    """No fields: only the CSRF token, so another site cannot log the user out."""


class CodeForm(FlaskForm):
    """The six-digit code from the authenticator app."""

    code = StringField(
        _l("Code from your authenticator app"),
        validators=[
            DataRequired(message=_l("is required")),
            Regexp(r"^\s*\d{3}\s?\d{3}\s*$", message=_l("must be the 6 digits shown in the app")),
        ],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
