"""HTML pages: the landing page, the applicant's dashboard, filing, progress and the PDF."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from pydantic import ValidationError

from certificate.applications import service
from certificate.applications.api import certificate_pdf_response, file_and_dispatch
from certificate.applications.forms import MAX_RESIDENCE_ROWS, ApplicationForm, Problem
from certificate.applications.models import Application, ApplicationStatus
from certificate.applications.schemas import ApplicationIn
from certificate.auth.models import Role, User
from certificate.checks.models import Check, CheckStatus
from certificate.db import db, utcnow
from certificate.errors import ApiError, validation_fields
from certificate.extensions import login_manager
from country_adapters.countries import country_name

bp = Blueprint("applications", __name__)


F = TypeVar("F", bound=Callable[..., Any])
ADD_ROWS = 3

CHECK_STATUS_WORDS = {
    CheckStatus.QUEUED.value: "Waiting to be sent",
    CheckStatus.SENT.value: "Sent to the agency, awaiting answer",
    CheckStatus.NO_RESPONSE.value: (
        "The agency did not answer by its deadline: shown on the certificate as not confirmed"
    ),
    CheckStatus.NOT_COVERED.value: "No participating authority: shown as not checked",
    CheckStatus.FAILED.value: ("A technical problem; the service keeps trying until the deadline"),
}
OUTCOME_WORDS = {
    "no_record": "Answered: no criminal record",
    "record_found": "Answered: a criminal record was found",
    "identity_unconfirmed": "Answered: the agency could not confirm your identity",
}
APPLICATION_STATUS_WORDS = {
    ApplicationStatus.IN_PROGRESS.value: "In progress",
    ApplicationStatus.COMPLETE.value: "Complete",
    ApplicationStatus.WITHDRAWN.value: "Withdrawn",
}
CERTIFICATE_STATUS_WORDS = {
    "valid": "Valid",
    "revoked": "Revoked",
    "expired": "Expired",
    "superseded": "Superseded by a newer certificate",
}


def applicant_required(view: F) -> F:
    """Only a logged-in applicant may use the view; anonymous visitors go to the log-in page."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if current_user.role != Role.APPLICANT.value:
            abort(403, "Only applicant accounts can file and follow applications.")
        return view(*args, **kwargs)

    return cast(F, wrapper)


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


def _owned_or_404(application_id: str) -> Application:
    try:
        return service.get_owned(db.session, _user(), application_id)
    except service.ApplicationNotFound:
        abort(404, "There is no such application in your account.")


def when(moment: datetime | None) -> str:
    """A moment as people read it, in UTC: ``17 Apr 2026, 14:03 UTC``."""
    return moment.strftime("%d %b %Y, %H:%M UTC") if moment else ""


def day(moment: datetime | None) -> str:
    """A date as people read it: ``17 Apr 2026``."""
    return moment.strftime("%d %b %Y") if moment else ""


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


def check_row(check: Check) -> CheckRow:
    """A check in plain words."""
    if check.status == CheckStatus.ANSWERED.value:
        words = OUTCOME_WORDS.get(check.outcome or "", "Answered")
    else:
        words = CHECK_STATUS_WORDS.get(check.status, check.status)
    return CheckRow(
        country=check.country,
        name=country_name(check.country),
        status=check.status,
        words=words,
        final=check.is_final,
        authority=check.authority,
        deadline=when(check.deadline_at) if not check.is_final else "",
        answered=when(check.answered_at),
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
        country_name=country_name,
        day=day,
    )


@bp.route("/applications/new", methods=["GET", "POST"])
@applicant_required
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
        db.session.rollback()
        application, _created = file_and_dispatch(_user(), data, None)
    return application


@bp.get("/applications/<application_id>")
@applicant_required
def progress(application_id: str) -> ResponseReturnValue:
    """Each country's check; the page reloads itself until the certificate is issued."""
    application = _owned_or_404(application_id)
    certificate = application.current_certificate
    rows = [check_row(check) for check in application.checks]
    return render_template(
        "applications/progress.html",
        application=application,
        rows=rows,
        finished=sum(1 for row in rows if row.final),
        in_progress=application.status == ApplicationStatus.IN_PROGRESS.value,
        status_words=APPLICATION_STATUS_WORDS,
        certificate=certificate,
        certificate_status=(
            CERTIFICATE_STATUS_WORDS[certificate.status_at(utcnow()).value] if certificate else None
        ),
        day=day,
        when=when,
    )


@bp.get("/applications/<application_id>/certificate.pdf")
@applicant_required
def certificate_pdf(application_id: str) -> ResponseReturnValue:
    """The certificate PDF, to its owner only (the download is audited)."""
    application = _owned_or_404(application_id)
    try:
        return certificate_pdf_response(application)
    except ApiError:
        abort(404, "The certificate has not been issued yet.")
