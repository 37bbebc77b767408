"""HTML pages: sign up, log in, log out (session cookies, CSRF-protected forms)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user

from certificate.auth.forms import LoginForm, LogoutForm, SignupForm
from certificate.auth.models import Role, User
from certificate.auth.service import AccountError, authenticate, create_user
from certificate.db import db
from certificate.extensions import limiter, login_manager

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The active user whose id the session holds; None logs a disabled account out."""
    user = db.session.get(User, user_id)
    return user if user is not None and user.active else None


def _login_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site, else None (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


def home_for(user: User) -> str:
    """Where a user lands after logging in."""
    if user.role == Role.APPLICANT.value:
        return url_for("applications.dashboard")
    if user.role == Role.AGENCY_OFFICER.value:
        return url_for("portal.index")
    if user.role == Role.ADMIN.value:
        return url_for("admin_checks.index")
    return url_for("applications.index")


def _start_session(user: User) -> None:
    """A fresh session for the new login, so a planted session id is worthless."""
    session.clear()
    login_user(user)


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def signup() -> ResponseReturnValue:
    """Create an applicant account and log in."""
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = SignupForm()
    if form.validate_on_submit():
        try:
            user = create_user(
                db.session,
                email=form.email.data or "",
                password=form.password.data or "",
                name=form.name.data or "",
            )
        except AccountError as exc:
            db.session.rollback()
            field = getattr(form, exc.field, None)
            if field is not None:
                field.errors = [*field.errors, str(exc)]
            else:
                form.form_errors.append(f"{exc.field}: {exc}")
        else:
            db.session.commit()
            _start_session(user)
            flash("Your account is ready. You are logged in.", "success")
            return redirect(url_for("applications.dashboard"), 303)
    status = 400 if request.method == "POST" else 200
    return render_template("auth/signup.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login() -> ResponseReturnValue:
    """Log in with e-mail and password."""
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(db.session, form.email.data or "", form.password.data or "")
        if user is not None:
            db.session.commit()  # a password hash may have been upgraded
            _start_session(user)
            target = safe_next(request.args.get("next")) or home_for(user)
            return redirect(target, 303)
        form.form_errors.append("The e-mail address or password is not correct.")
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Log out (a POST with a CSRF token, so no other site can do it for the user)."""
    if not LogoutForm().validate_on_submit():
        abort(400, "The log-out form has expired; reload the page and try again.")
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("applications.index"), 303)
