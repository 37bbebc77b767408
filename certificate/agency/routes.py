"""The officer portal: an agency's officers answer their own country's queries by hand.

Officers (role ``agency-officer``) see only their own country: a query of
another country is a 404, exactly like one that does not exist. Every page
that shows a query's subject is an audit event, and so is every answer and
every question.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext, ngettext
from flask_login import current_user
from werkzeug.exceptions import Conflict

from certificate.agency import service
from certificate.agency.forms import OUTCOME_SHORT, AnswerForm, QuestionForm
from certificate.auth.access import officer_required
from certificate.auth.models import User
from certificate.checks.models import Check, CheckStatus
from certificate.checks.service import ApplicationWithdrawn, ConflictingAnswer
from certificate.db import db, utcnow
from certificate.i18n import country_name, current_language
from certificate.issuance.i18n import category_words
from certificate.runtime import runtime
from certificate.web.dates import when
from certificate.web.problems import Problem
from certificate.web.transaction import after_commit, transactional

bp = Blueprint("agency", __name__, url_prefix="/portal")  # the officer portal's pages


@bp.app_template_filter("category_words")
def _category_words(code: str) -> str:
    """A record category code in words, in the page's language."""
    return category_words(current_language(), code)


FINAL = "This query is already final; a different answer cannot replace it."
WITHDRAWN = "The applicant withdrew this application; its query is closed."


def _officer() -> User:
    user: User = current_user._get_current_object()
    return user


def _actor() -> str:
    return f"user:{_officer().id}"


def _query_or_404(check_id: str) -> Check:
    """A query of the officer's own country; any other id is a 404, whether it exists or not."""
    try:
        return service.query_for_country(db.session, _officer().country or "", check_id)
    except service.QueryNotFound:
        abort(404, gettext("There is no such query for your agency."))
    except service.QueryWithdrawn:
        # closed with the withdrawal: nothing of the subject is shown, nothing is taken
        abort(
            409 if request.method == "POST" else 410,
            gettext("The applicant withdrew this application; its query is closed."),
        )


def time_left(check: Check, now: datetime) -> str:
    """The time left to a query's deadline, in words."""
    if check.paused_at is not None:
        return gettext("Paused: waiting for the applicant's reply")
    if check.deadline_at is None:
        return gettext("No deadline")
    seconds = int((check.deadline_at - now).total_seconds())
    if seconds <= 0:
        return gettext("Overdue")
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = max(rest // 60, 1 if not (days or hours) else 0)
    if days:
        return ngettext(
            "%(num)d day %(hours)d h left", "%(num)d days %(hours)d h left", days, hours=hours
        )
    if hours:
        return gettext("%(hours)d h %(minutes)d min left", hours=hours, minutes=minutes)
    return gettext("%(minutes)d min left", minutes=minutes)


@bp.get("")
@officer_required
def index() -> ResponseReturnValue:
    """The officer's country's open queries, oldest first, with the time left to each."""
    country = _officer().country or ""
    checks = service.open_queries(db.session, country)
    now = utcnow()
    return render_template(
        "agency/open_queries.html",
        country=country,
        country_name=country_name(country),
        checks=checks,
        time_left=lambda check: time_left(check, now),
        when=when,
    )


@bp.get("/queries/<check_id>")
@officer_required
@transactional()
def query(check_id: str) -> ResponseReturnValue:
    """One query: the subject's identity and residence periods in this country."""
    check = _query_or_404(check_id)
    return _query_page(check, AnswerForm(), QuestionForm())


@bp.post("/queries/<check_id>/answer")
@officer_required
@transactional(
    {
        ConflictingAnswer: lambda _: Conflict(FINAL),
        service.QueryClosed: lambda _: Conflict(FINAL),
        ApplicationWithdrawn: lambda _: Conflict(WITHDRAWN),
    }
)
def answer(check_id: str) -> ResponseReturnValue:
    """Answer a query in two steps: check what will be sent, then confirm (final)."""
    check = _query_or_404(check_id)
    form = AnswerForm()
    if request.form.get("add_rows"):
        form.add_record_rows()
        return _query_page(check, form, QuestionForm())
    if request.form.get("edit"):
        return _query_page(check, form, QuestionForm())
    data, problems = form.validated()
    if data is None:
        return _query_page(check, form, QuestionForm(), problems), 400
    if not request.form.get("confirm"):
        return render_template(
            "agency/confirm.html",
            check=check,
            form=form,
            answer=data,
            outcome_words=OUTCOME_SHORT,
            country_name=country_name(check.country),
        )
    changed = service.answer_query(
        db.session, check, data.to_answer(), now=utcnow(), actor=_actor()
    )
    if changed:
        application_id = check.application_id
        after_commit(lambda: runtime().jobs.submit_issuance(application_id))
    flash(gettext("Your answer is recorded and final. Thank you."), "success")
    return redirect(url_for("agency.index"), 303)


@bp.post("/queries/<check_id>/question")
@officer_required
@transactional({service.QueryClosed: lambda _: Conflict("This query is no longer open.")})
def ask(check_id: str) -> ResponseReturnValue:
    """Ask the applicant for more information; the query's deadline pauses until the reply."""
    check = _query_or_404(check_id)
    form = QuestionForm()
    if not form.validate_on_submit():
        return _query_page(check, AnswerForm(formdata=None), form), 400
    try:
        service.ask_question(
            db.session, check, question=form.question.data or "", now=utcnow(), actor=_actor()
        )
    except service.QuestionPending:  # refused before anything is stored; the view is audited
        form.question.errors = [
            *form.question.errors,
            "an earlier question still waits for the applicant's reply",
        ]
        return _query_page(check, AnswerForm(formdata=None), form), 409
    flash(gettext("Your question was sent to the applicant. The deadline is paused."), "success")
    return redirect(url_for("agency.query", check_id=check.id), 303)


def _query_page(
    check: Check,
    answer_form: AnswerForm,
    question_form: QuestionForm,
    problems: list[Problem] | None = None,
) -> str:
    (
        """Render a query with its subject; every rendering is audited as a view.

    Only transactional views call it: the view event commits with their answer.
    """
        ""
    )
    service.record_query_viewed(db.session, check, actor=_actor())
    problems = problems or []
    questions = service.questions_for(db.session, [check.id])[check.id]
    return render_template(
        "agency/query.html",
        check=check,
        query=service.query_view(check),
        country_name=country_name,
        open=check.status == CheckStatus.SENT.value,
        pending_question=any(not q.answered for q in questions),
        questions=questions,
        answer_form=answer_form,
        question_form=question_form,
        problems=problems,
        errors={p.field_id: p.message for p in reversed(problems) if p.field_id},
        outcome_words=OUTCOME_SHORT,
        time_left=time_left(check, utcnow()),
        when=when,
    )
