"""Admin pages: checks that failed, retried or answered by hand.

The pages show what an operator needs to act (country, attempts, the last
technical error, the deadline) and never a subject's identity or records.
An answer entered by hand takes effect only once a second admin approves it
on ``/admin/approvals`` (the two-person rule); a retry changes no answer and
happens at once.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user
from werkzeug.exceptions import Conflict

from certificate.admin import approvals
from certificate.admin.forms import HandAnswerForm, RetryForm
from certificate.admin.models import ActionKind
from certificate.agency.forms import OUTCOME_SHORT
from certificate.auth.access import admin_required
from certificate.auth.models import User
from certificate.checks import service as checks
from certificate.checks.models import Check, CheckStatus
from certificate.db import db, utcnow
from certificate.i18n import country_name
from certificate.runtime import runtime
from certificate.web.dates import when
from certificate.web.problems import Problem
from certificate.web.transaction import after_commit, discard, transactional

bp = Blueprint("admin_checks", __name__, url_prefix="/admin/checks")


def _actor() -> str:
    user: User = current_user._get_current_object()
    return f"user:{user.id}"


def _failed_or_404(check_id: str) -> Check:
    check = db.session.get(Check, check_id)
    if check is None or check.status != CheckStatus.FAILED.value:
        abort(
            404,
            gettext("There is no failed check with this id (it may have been dealt with already)."),
        )
    return check


@bp.get("")
@admin_required
def index() -> ResponseReturnValue:
    """Every failed check, the nearest deadline first."""
    return render_template(
        "admin/checks.html",
        checks=checks.failed_checks(db.session),
        issuances=checks.failed_issuances(db.session),
        awaiting=approvals.open_action_subjects(db.session, ActionKind.ANSWER_CHECK),
        country_name=country_name,
        when=when,
    )


@bp.post("/<check_id>/retry")
@admin_required
@transactional()
def retry(check_id: str) -> ResponseReturnValue:
    """Send a failed check back to the queue, due at once."""
    if not RetryForm().validate_on_submit():
        abort(400, gettext("The form has expired; reload the page and try again."))
    check = _failed_or_404(check_id)
    checks.retry_failed(db.session, check, now=utcnow(), actor=_actor())
    check_id = check.id
    after_commit(lambda: runtime().jobs.submit_check(check_id))
    flash(
        gettext("The check for %(country)s is queued again.", country=country_name(check.country)),
        "success",
    )
    return redirect(url_for("admin_checks.index"), 303)


@bp.route("/<check_id>/answer", methods=["GET", "POST"])
@admin_required
@transactional({approvals.StaleAction: lambda exc: Conflict(str(exc))})
def answer(check_id: str) -> ResponseReturnValue:
    """Enter an agency's answer by hand: the same rules and confirmation step as the portal.

    Confirming asks for a second admin's approval; the check is unchanged until then.
    """
    check = _failed_or_404(check_id)
    form = HandAnswerForm()
    if request.method == "GET" or request.form.get("edit"):
        return _answer_page(check, form)
    if request.form.get("add_rows"):
        form.add_record_rows()
        return _answer_page(check, form)
    data, problems = form.validated()
    if not form.reason.validate(form):
        # shown once, through the problem list, like the answer's own problems
        problems.append(Problem("reason", form.reason.errors[0], form.reason.id, gettext("Reason")))
        form.reason.errors = []
    if data is None or problems:
        return _answer_page(check, form, problems), 400
    if not request.form.get("confirm"):
        return render_template(
            "admin/checks_confirm.html",
            check=check,
            form=form,
            answer=data,
            outcome_words=OUTCOME_SHORT,
            country_name=country_name(check.country),
        )
    try:
        approvals.request_hand_answer(
            db.session,
            check,
            data.to_answer(),
            reason=form.reason.data or "",
            requester=current_user._get_current_object(),
            now=utcnow(),
        )
    except approvals.AlreadyPending:
        flash(
            gettext(
                "An answer for %(country)s already waits for approval; approve or reject it first.",
                country=country_name(check.country),
            ),
            "info",
        )
        discard(redirect(url_for("admin_approvals.index"), 303))
    flash(
        gettext(
            "Your answer for %(country)s waits for a second administrator's approval; "
            "the check is unchanged until then.",
            country=country_name(check.country),
        ),
        "success",
    )
    return redirect(url_for("admin_checks.index"), 303)


def _answer_page(check: Check, form: HandAnswerForm, problems: list[Problem] | None = None) -> str:
    problems = problems or []
    return render_template(
        "admin/checks_answer.html",
        check=check,
        pending=approvals.open_action_for(db.session, ActionKind.ANSWER_CHECK, check.id),
        form=form,
        problems=problems,
        errors={p.field_id: p.message for p in reversed(problems) if p.field_id},
        country_name=country_name,
        when=when,
    )
