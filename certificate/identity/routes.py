"""Pages of identity proofing: the e-mail link, and the ID checker's desk."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user

from certificate.auth.access import id_checker_required
from certificate.db import db, utcnow
from certificate.i18n import N_
from certificate.identity import service
from certificate.identity.desk import record_check, submit_checks
from certificate.identity.email_check import BadEmailLink, confirm_email
from certificate.identity.forms import IdentityCheckForm
from certificate.identity.verifiers import DocumentSeen, EvidenceMismatch
from certificate.web.transaction import after_commit, discard, transactional

bp = Blueprint("identity", __name__)


@bp.get("/email/verify/<token>")
@transactional(
    {BadEmailLink: lambda _: (render_template("identity/email_verified.html", ok=False), 400)}
)
def verify_email(token: str) -> ResponseReturnValue:
    """Follow the link from the e-mail: the address is verified, held applications move on."""
    now = utcnow()
    user = confirm_email(
        db.session, token, secret_key=str(current_app.config["SECRET_KEY"]), now=now
    )
    due: list[str] = []
    for application in service.awaiting_for_user(db.session, user.id):
        due += service.release_if_ready(db.session, application, email_verified=True, now=now)
    after_commit(lambda: submit_checks(due))
    return render_template("identity/email_verified.html", ok=True)


@bp.route("/identity-checks", methods=["GET", "POST"])
@id_checker_required
@transactional()
def desk() -> ResponseReturnValue:
    """The ID checker's desk: the code the person shows, the document seen, the decision."""
    form = IdentityCheckForm()
    if not form.validate_on_submit():
        return render_template("identity/desk.html", form=form), 400 if form.is_submitted() else 200
    document = DocumentSeen(
        form.document_type.data or "",
        form.document_number.data or "",
        (form.issuing_country.data or "").upper(),
    )
    try:
        proof, organisation = record_check(
            current_user._get_current_object(),
            form.code.data or "",
            form.decision.data or "",
            [document],
        )
    except service.IdentityCodeNotFound:
        form.code.errors = [
            *form.code.errors,
            gettext("No application waits for its identity under this code."),
        ]
        discard(render_template("identity/desk.html", form=form), 404)
    except service.IdentityAlreadyDecided:
        form.code.errors = [*form.code.errors, gettext("This identity has already been decided.")]
        discard(render_template("identity/desk.html", form=form), 409)
    except EvidenceMismatch:
        form.document_number.errors = [
            *form.document_number.errors,
            gettext(
                "This document does not match the application's identity document "
                "(its type, issuing country or number)."
            ),
        ]
        discard(render_template("identity/desk.html", form=form), 409)
    message = (
        N_("Recorded: the identity for code %(code)s is confirmed, by %(organisation)s.")
        if proof.status == "confirmed"
        else N_("Recorded: the identity for code %(code)s is refused, by %(organisation)s.")
    )
    flash(gettext(message, code=proof.code, organisation=organisation.name), "success")
    return redirect(url_for("identity.desk"), 303)
