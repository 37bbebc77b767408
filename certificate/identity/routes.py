"""Pages of identity proofing: the e-mail link, and the ID checker's desk."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask.typing import ResponseReturnValue

from certificate.db import db, utcnow
from certificate.identity import service
from certificate.identity.email_check import BadEmailLink, confirm_email
from certificate.runtime import runtime

bp = Blueprint("identity", __name__)


@bp.get("/email/verify/<token>")
def verify_email(token: str) -> ResponseReturnValue:
    """Follow the link from the e-mail: the address is verified, held applications move on."""
    now = utcnow()
    try:
        user = confirm_email(
            db.session, token, secret_key=str(current_app.config["SECRET_KEY"]), now=now
        )
    except BadEmailLink:
        db.session.rollback()
        return render_template("identity/email_verified.html", ok=False), 400
    due: list[str] = []
    for application in service.awaiting_for_user(db.session, user.id):
        due += service.release_if_ready(db.session, application, email_verified=True, now=now)
    db.session.commit()
    for check_id in due:
        runtime().jobs.submit_check(check_id)
    return render_template("identity/email_verified.html", ok=True)
