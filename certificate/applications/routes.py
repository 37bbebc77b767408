"""HTML pages: the landing page, the applicant's dashboard, filing, progress and the PDF."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from pydantic import ValidationError

from certificate.agency import service as agency
from certificate.agency.forms import ReplyForm
from certificate.agency.models import CheckQuestion
from certificate.applications import service
from certificate.applications.api import (
    certificate_pdf_response,
    email_may_proceed,
    file_and_dispatch,
)
from certificate.applications.forms import MAX_RESIDENCE_ROWS, ApplicationForm
from certificate.applications.models import Application, ApplicationStatus
from certificate.applications.schemas import ApplicationIn
from certificate.auth.access import applicant_required
from certificate.auth.models import User
from certificate.checks.models import Check, CheckStatus
from certificate.db import db, utcnow
from certificate.errors import ApiError, validation_fields
from certificate.i18n import country_name
from certificate.web.dates import day, when
from certificate.web.problems import Problem
from certificate.web.transaction import discard, transactional

bp = Blueprint("applications", __name__)


ADD_ROWS = 3

CHECK_STATUS_WORDS = {
    CheckStatus.QUEUED.value: _l("Waiting to be sent"),
    CheckStatus.SENT.value: _l("Sent to the agency, awaiting answer"),
    CheckStatus.NO_RESPONSE.value: _l(
        "The agency did not answer by its deadline: shown on the certificate as not confirmed"
    ),
    CheckStatus.NOT_COVERED.value: _l("No participating authority: shown as not checked"),
    CheckStatus.FAILED.value: _l(
        "A technical problem; the service keeps trying until the deadline"
    ),
}
HELD_FOR_IDENTITY_WORDS = _l("Not sent: no agency is asked before your identity is confirmed")
WAITING_FOR_REPLY_WORDS = _l("The agency asked you a question: waiting for your reply")
STATUS_EXPLANATIONS = {
    CheckStatus.NO_RESPONSE.value: _l(
        "The agency did not answer within its deadline. Your certificate says so: this "
        "country is shown as “not confirmed”, never as clear. It says nothing about "
        "whether you have a record there. If the person who asked for the certificate "
        "needs this country, you can file a new application later."
    ),
    CheckStatus.FAILED.value: _l(
        "We could not get an answer from the agency because of a technical problem on the "
        "way (its system did not respond, or sent something we could not read). Our staff "
        "have been alerted: they will try again or enter the agency's answer by hand. You do "
        "not need to do anything. If nothing arrives by the deadline, this country is shown "
        "on your certificate as “not confirmed”."
    ),
}
PAUSED_EXPLANATION = _l(
    "An officer of this country's agency needs more information to find your records. "
    "Please answer the question below. The agency's deadline is paused until you reply, "
    "so the time you take does not count against it."
)

OUTCOME_WORDS = {
    "no_record": _l("Answered: no criminal record"),
    "record_found": _l("Answered: a criminal record was found"),
    "identity_unconfirmed": _l("Answered: the agency could not confirm your identity"),
}
APPLICATION_STATUS_WORDS = {
    ApplicationStatus.AWAITING_IDENTITY.value: _l("Waiting for your identity to be confirmed"),
    ApplicationStatus.IDENTITY_REFUSED.value: _l("Identity refused: no agency was asked"),
    ApplicationStatus.IN_PROGRESS.value: _l("In progress"),
    ApplicationStatus.COMPLETE.value: _l("Complete"),
    ApplicationStatus.WITHDRAWN.value: _l("Withdrawn"),
}
CERTIFICATE_STATUS_WORDS = {
    "valid": _l("Valid"),
    "revoked": _l("Revoked"),
    "expired": _l("Expired"),
    "superseded": _l("Superseded by a newer certificate"),
}


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


def _owned_or_404(application_id: str) -> Application:
    try:
        return service.get_owned(db.session, _user(), application_id)
    except service.ApplicationNotFound:
        abort(404, gettext("There is no such application in your account."))


@dataclass(frozen=True)
class CheckRow:
    """One country's line on the progress page."""

    country: str
    name: str
    status: str
    words: str
    final: bool
    authority: str | None
    deadline: str
    answered: str
    explanation: str = ""
    questions: tuple[CheckQuestion, ...] = ()
    open_question: CheckQuestion | None = None


def check_row(check: Check, questions: Sequence[CheckQuestion] = ()) -> CheckRow:
    """A check in plain words, with the agency's questions about it, if any."""
    waiting = next((q for q in questions if not q.answered), None)
    if waiting is not None and check.status != CheckStatus.SENT.value:
        waiting = None  # the query ended meanwhile: no reply is needed any more
    explanation = STATUS_EXPLANATIONS.get(check.status, "")
    if check.status == CheckStatus.ANSWERED.value:
        words = OUTCOME_WORDS.get(check.outcome or "", _l("Answered"))
    elif waiting is not None:
        words = WAITING_FOR_REPLY_WORDS
        explanation = PAUSED_EXPLANATION
    else:
        words = CHECK_STATUS_WORDS.get(check.status, check.status)
    held = check.status == CheckStatus.QUEUED.value and check.paused_at is not None
    if held:
        words = HELD_FOR_IDENTITY_WORDS
    if check.is_final:
        deadline = ""
    elif held:
        deadline = gettext("Starts once your identity is confirmed")
    elif check.paused_at is not None:
        deadline = gettext("Paused until you reply")
    else:
        deadline = when(check.deadline_at)
    return CheckRow(
        country=check.country,
        name=country_name(check.country),
        status=check.status,
        words=words,
        final=check.is_final,
        authority=check.authority,
        deadline=deadline,
        answered=when(check.answered_at),
        explanation=explanation,
        questions=tuple(questions),
        open_question=waiting,
    )


@bp.get("/")
def index() -> ResponseReturnValue:
    """What the service is, and the ways in."""
    return render_template("applications/index.html")


@bp.get("/applications")
@applicant_required
def dashboard() -> ResponseReturnValue:
    """The applicant's applications, newest first."""
    applications = service.list_owned(db.session, _user())
    return render_template(
        "applications/dashboard.html",
        applications=applications,
        status_words=APPLICATION_STATUS_WORDS,
        certificate_words=CERTIFICATE_STATUS_WORDS,
        now=utcnow(),
        country_name=country_name,
        day=day,
    )


@bp.route("/applications/new", methods=["GET", "POST"])
@applicant_required
@transactional()
def new_application() -> ResponseReturnValue:
    """The filing form; its input is validated by the API's own model."""
    form = ApplicationForm()
    if request.method == "POST" and request.form.get("add_rows"):
        # "Add another period" without JavaScript: the same form, with more empty lines
        for _ in range(ADD_ROWS):
            if len(form.residences) < MAX_RESIDENCE_ROWS:
                form.residences.append_entry()
        return _filing_page(form, [])
    if request.method == "POST":  # the CSRF token was checked before the view ran
        try:
            data = ApplicationIn.model_validate(form.to_payload())
        except ValidationError as exc:
            problems = form.problems(validation_fields(exc))
            return _filing_page(form, problems), 400
        application = _file(data, form.submission.data)
        return redirect(url_for("applications.progress", application_id=application.id), 303)
    return _filing_page(form, [])


def _filing_page(form: ApplicationForm, problems: list[Problem]) -> str:
    return render_template(
        "applications/new.html",
        form=form,
        problems=problems,
        errors={p.field_id: p.message for p in reversed(problems) if p.field_id},
    )


def _file(data: ApplicationIn, submission_key: str | None) -> Application:
    """File once per form: a double click or a resent form finds the first filing again."""
    key = f"form:{submission_key}" if submission_key else None
    try:
        application, _created = file_and_dispatch(_user(), data, key)
    except service.IdempotencyConflict:
        # the same form came back with different answers (back button): a new filing
        # (refused before anything was stored)
        application, _created = file_and_dispatch(_user(), data, None)
    return application


@bp.get("/applications/<application_id>")
@applicant_required
def progress(application_id: str) -> ResponseReturnValue:
    """Each country's check; the page reloads itself until the certificate is issued."""
    application = _owned_or_404(application_id)
    return _progress_page(application)


def _progress_page(
    application: Application,
    reply_form: ReplyForm | None = None,
    failed_question_id: str | None = None,
) -> str:
    """The progress page; ``reply_form`` carries a rejected reply back to its question."""
    certificate = application.current_certificate
    state = certificate.status_at(utcnow()).value if certificate else None
    questions = agency.questions_for(db.session, [check.id for check in application.checks])
    rows = [check_row(check, questions[check.id]) for check in application.checks]
    awaiting_reply = any(row.open_question is not None for row in rows)
    in_progress = application.status == ApplicationStatus.IN_PROGRESS.value
    awaiting_identity = application.status == ApplicationStatus.AWAITING_IDENTITY.value
    return render_template(
        "applications/progress.html",
        application=application,
        rows=rows,
        finished=sum(1 for row in rows if row.final),
        in_progress=in_progress,
        awaiting_identity=awaiting_identity,
        proof=application.identity_proof,
        email_verified=email_may_proceed(_user()),
        # never reload the page under someone typing a reply
        auto_refresh=in_progress and not awaiting_reply,
        reply_form=reply_form or ReplyForm(formdata=None),
        failed_question_id=failed_question_id,
        status_words=APPLICATION_STATUS_WORDS,
        certificate=certificate,
        certificate_state=state,
        certificate_status=CERTIFICATE_STATUS_WORDS[state] if state else None,
        day=day,
        when=when,
    )


@bp.post("/applications/<application_id>/questions/<question_id>/reply")
@applicant_required
@transactional()
def reply(application_id: str, question_id: str) -> ResponseReturnValue:
    """The applicant's reply to an agency's question; the agency's deadline runs again."""
    application = _owned_or_404(application_id)
    try:
        question = agency.question_of_application(db.session, application.id, question_id)
    except agency.QuestionNotFound:
        abort(404, gettext("There is no such question about your application."))
    form = ReplyForm()
    if not form.validate_on_submit():
        return _progress_page(application, form, question.id), 400
    try:
        agency.reply_to_question(
            db.session,
            question,
            reply=form.reply.data or "",
            now=utcnow(),
            actor=f"user:{_user().id}",
        )
    except agency.QuestionAlreadyAnswered:
        flash(gettext("You have already replied to this question."), "info")
        discard(_back_to_progress(application))
    except agency.QueryClosed:
        flash(gettext("The agency has already answered; no reply is needed any more."), "info")
        discard(_back_to_progress(application))
    flash(gettext("Thank you. Your reply was sent to the agency."), "success")
    return _back_to_progress(application)


def _back_to_progress(application: Application) -> ResponseReturnValue:
    return redirect(url_for("applications.progress", application_id=application.id), 303)


@bp.get("/applications/<application_id>/certificate.pdf")
@applicant_required
@transactional()  # the download is audited
def certificate_pdf(application_id: str) -> ResponseReturnValue:
    """The certificate PDF, to its owner only (the download is audited)."""
    application = _owned_or_404(application_id)
    try:
        return certificate_pdf_response(application)
    except ApiError:
        abort(404, gettext("The certificate has not been issued yet."))
