"""HTML pages: sign up, log in, log out (session cookies, CSRF-protected forms)."""

from __future__ import annotations

import base64
from urllib.parse import urlsplit

import qrcode
import qrcode.image.svg
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
from flask_babel import gettext
from flask_login import current_user, login_user, logout_user

from certificate.auth.forms import CodeForm, LoginForm, LogoutForm, SignupForm
from certificate.auth.models import Role, User
from certificate.auth.service import (
    AccountError,
    EmailTaken,
    authenticate,
    create_user,
    end_sessions,
    needs_second_factor,
    new_totp_secret,
    totp_uri,
    verify_second_factor,
)
from certificate.db import db, utcnow
from certificate.extensions import login_manager
from certificate.i18n import current_language
from certificate.rate_limits import per_client
from certificate.web.transaction import discard, transactional

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The active user whose id the session holds; None logs a disabled account out."""
    user = db.session.get(User, user_id)
    return user if user is not None and user.active else None


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
        return url_for("agency.index")
    if user.role == Role.ADMIN.value:
        return url_for("admin_checks.index")
    if user.role == Role.ID_CHECKER.value:
        return url_for("identity.desk")
    if user.role == Role.EMPLOYER.value:
        return url_for("employer.index")
    return url_for("applications.index")


def _start_session(user: User) -> None:
    """A fresh session for the new login, so a planted session id is worthless."""
    session.clear()
    login_user(user)
    now = int(utcnow().timestamp())
    session["epoch"] = user.session_epoch
    session["login_at"] = now
    session["seen_at"] = now


@bp.before_app_request
def _enforce_session_lifetime() -> ResponseReturnValue | None:
    """End a session that was logged out elsewhere, or is idle or too old."""
    config = current_app.config
    if not any(
        name in request.cookies
        for name in (
            config["SESSION_COOKIE_NAME"],
            config.get("REMEMBER_COOKIE_NAME", "remember_token"),
        )
    ):
        return None  # no session to end (API clients, verifiers): skip loading a user
    if not current_user.is_authenticated:
        return None
    now = int(utcnow().timestamp())
    expired = (
        session.get("epoch") != current_user.session_epoch
        or now - int(session.get("login_at", 0)) > int(config["SESSION_ABSOLUTE_SECONDS"])
        or now - int(session.get("seen_at", 0)) > int(config["SESSION_IDLE_SECONDS"])
    )
    if expired:
        logout_user()
        session.clear()
        if request.blueprint and request.blueprint.endswith("_api"):
            return None
        flash(gettext("Your session has ended. Please log in again."), "info")
        return redirect(
            url_for("auth.login", next=request.path if request.method == "GET" else None)
        )
    if now - int(session.get("seen_at", 0)) >= _SEEN_RESOLUTION:
        session["seen_at"] = now
    return None


_SEEN_RESOLUTION = 30  # seconds: the idle clock is kept to this precision
_PENDING = "second_factor"
_PENDING_SECONDS = 300


@bp.route("/signup", methods=["GET", "POST"])
@per_client("LOGIN_RATE_LIMIT", scope="signup", methods=("POST",))
@transactional()
def signup() -> ResponseReturnValue:
    """Create an applicant account, then log in (the same answer for a taken address)."""
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = SignupForm()
    if form.validate_on_submit():
        try:
            create_user(
                db.session,
                email=form.email.data or "",
                password=form.password.data or "",
                name=form.name.data or "",
                language=current_language(),
            )
        except EmailTaken:
            # answered exactly like a new address: sign-up tells no one who has an account
            discard(_signed_up())
        except AccountError as exc:
            field = getattr(form, exc.field, None)
            if field is not None:
                field.errors = [*field.errors, str(exc)]
            else:
                form.form_errors.append(f"{exc.field}: {exc}")
            discard(render_template("auth/signup.html", form=form), 400)
        return _signed_up()
    status = 400 if request.method == "POST" else 200
    return render_template("auth/signup.html", form=form), status


def _signed_up() -> ResponseReturnValue:
    """The one answer to every accepted sign-up, whether or not the address was new."""
    flash(gettext("Your account is ready if this address had none. Please log in."), "success")
    return redirect(url_for("auth.login"), 303)


@bp.route("/login", methods=["GET", "POST"])
@per_client("LOGIN_RATE_LIMIT", scope="login", methods=("POST",))
@transactional()  # failures are counted; a hash may have been upgraded
def login() -> ResponseReturnValue:
    """Log in with e-mail and password."""
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(db.session, form.email.data or "", form.password.data or "")
        if user is not None:
            target = safe_next(request.args.get("next")) or home_for(user)
            if needs_second_factor(user):
                session.clear()
                session[_PENDING] = {
                    "user": user.id,
                    "at": int(utcnow().timestamp()),
                    "next": target,
                }
                if user.totp_secret is None:
                    session[_PENDING]["enroll"] = new_totp_secret()
                return redirect(url_for("auth.second_factor"), 303)
            _start_session(user)
            return redirect(target, 303)
        form.form_errors.append(gettext("The e-mail address or password is not correct."))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/login/code", methods=["GET", "POST"])
@per_client("LOGIN_RATE_LIMIT", scope="login-code", methods=("POST",))
@transactional()  # a wrong code counts towards the lock-out
def second_factor() -> ResponseReturnValue:
    """The TOTP step for officers and admins (with enrolment on their first log-in)."""
    pending = session.get(_PENDING)
    now = utcnow()
    if not pending or now.timestamp() - pending["at"] > _PENDING_SECONDS:
        session.pop(_PENDING, None)
        return redirect(url_for("auth.login"), 303)
    user = db.session.get(User, pending["user"])
    if user is None or not user.active:
        session.pop(_PENDING, None)
        return redirect(url_for("auth.login"), 303)
    enroll = pending.get("enroll")
    form = CodeForm()
    if form.validate_on_submit():
        ok = verify_second_factor(db.session, user, form.code.data or "", now, enroll)
        if ok:
            _start_session(user)
            return redirect(pending["next"], 303)
        form.code.errors = [*form.code.errors, "is not the current code"]
    status = 400 if request.method == "POST" else 200
    qr = _qr_data_uri(totp_uri(user, enroll)) if enroll else None
    return render_template(
        "auth/code.html", form=form, enroll_secret=enroll, qr_data_uri=qr
    ), status


def _qr_data_uri(content: str) -> str:
    """An SVG QR code as a data: URI (the CSP allows data: images, nothing inline runs)."""
    image = qrcode.make(content, image_factory=qrcode.image.svg.SvgPathImage)
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode()


@bp.post("/logout")
@transactional()
def logout() -> ResponseReturnValue:
    """Log out (a POST with a CSRF token, so no other site can do it for the user)."""
    if not LogoutForm().validate_on_submit():
        abort(400, gettext("The log-out form has expired; reload the page and try again."))
    if current_user.is_authenticated:
        end_sessions(db.session, current_user)  # every session and API token of the user
    logout_user()
    session.clear()
    flash(gettext("You are logged out."), "info")
    return redirect(url_for("applications.index"), 303)
