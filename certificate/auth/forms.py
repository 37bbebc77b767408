"""HTML forms for signing up, logging in and logging out (Flask-WTF, with CSRF)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Regexp

from certificate.auth.service import MIN_PASSWORD_LENGTH


class SignupForm(FlaskForm):
    """A new applicant account."""

    name = StringField(
        "Your name",
        validators=[DataRequired(message="is required"), Length(max=200)],
        render_kw={"autocomplete": "name"},
    )
    email = EmailField(
        "E-mail address",
        validators=[
            DataRequired(message="is required"),
            Email(message="is not a valid e-mail address"),
            Length(max=254),
        ],
        render_kw={"autocomplete": "email"},
    )
    password = PasswordField(
        "Password",
        validators=[
            DataRequired(message="is required"),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=200,
                message=f"must be {MIN_PASSWORD_LENGTH} to 200 characters",
            ),
        ],
        description=f"At least {MIN_PASSWORD_LENGTH} characters.",
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "Password again",
        validators=[
            DataRequired(message="is required"),
            EqualTo("password", message="does not match the password"),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class LoginForm(FlaskForm):
    """E-mail and password."""

    email = EmailField(
        "E-mail address",
        validators=[DataRequired(message="is required"), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired(message="is required"), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )


class LogoutForm(FlaskForm):
    """No fields: only the CSRF token, so another site cannot log the user out."""


class CodeForm(FlaskForm):
    """The six-digit code from the authenticator app."""

    code = StringField(
        "Code from your authenticator app",
        validators=[
            DataRequired(message="is required"),
            Regexp(r"^\s*\d{3}\s?\d{3}\s*$", message="must be the 6 digits shown in the app"),
        ],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
