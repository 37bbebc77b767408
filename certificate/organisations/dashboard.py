"""The employer's pages: requests and where each candidate stands, keys, webhooks, CSV checks.

Every page calls the same service functions as the JSON API (one function per
operation), so a request asked here, a key created here or a certificate
verified here is the same event, audited the same way, as through the API. A
member sees their own organisation only: any other organisation's key or
webhook is a 404, like one that does not exist.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user
from werkzeug.exceptions import NotFound

from certificate.auth.access import employer_required
from certificate.db import db, utcnow
from certificate.i18n import N_, current_language
from certificate.organisations import batch, requests, service, webhooks
from certificate.organisations.forms import ApiKeyForm, CsvForm, RequestForm, WebhookForm
from certificate.organisations.models import CandidateRequest, Organisation
from certificate.runtime import runtime
from certificate.verify.i18n import words
from certificate.verify.presentation import ResultView, result_view
from certificate.verify.service import Verification
from certificate.web.transaction import discard, transactional

bp = Blueprint("employer", __name__, url_prefix="/employer")

NO_SUCH_KEY = N_("There is no such API key of your organisation.")
NO_SUCH_WEBHOOK = N_("There is no such webhook of your organisation.")


@dataclass(frozen=True)
class RequestRow:
    """One request as the dashboard shows it; ``result`` only while the candidate shares."""

    item: CandidateRequest
    answer: Verification | None
    result: ResultView | None


def _organisation() -> Organisation:
    organisation = db.session.get(Organisation, current_user.organisation_id or "")
    if organisation is None:  # pragma: no cover - create_user refuses an employer without one
        abort(403)
    return organisation


def _actor() -> str:
    return f"user:{current_user.id}"


def _dashboard(form: RequestForm, status: int = 200) -> tuple[str, int]:
    organisation = _organisation()
    language, verifier, now = current_language(), runtime().verifier, utcnow()
    rows = []
    for item in requests.organisation_requests(db.session, organisation.id):
        answer = requests.current_answer(verifier, organisation, item, now)
        view = result_view(answer, language) if answer is not None else None
        rows.append(RequestRow(item, answer, view))
    page = render_template(
        "organisations/dashboard.html",
        organisation=organisation,
        rows=rows,
        form=form,
        t=words(language),
    )
    return page, status


@bp.get("")
@employer_required
@transactional()  # each shared certificate's answer is recorded in its holder's history
def index() -> ResponseReturnValue:
    """The organisation's requests; a shared one with its certificate's current answer."""
    return _dashboard(RequestForm(formdata=None, language=current_language()))


@bp.post("/requests")
@employer_required
@transactional()
def ask() -> ResponseReturnValue:
    """Ask a candidate by e-mail: the request is stored and the message written to the outbox."""
    form = RequestForm()
    if not form.validate_on_submit():
        discard(*_dashboard(form, 400))
    requests.create_request(
        db.session,
        _organisation(),
        email=form.email.data or "",
        purpose=form.purpose.data or "",
        language=form.language.data or current_language(),
        actor=_actor(),
        now=utcnow(),
    )
    flash(gettext("Your request was sent to %(email)s.", email=form.email.data), "success")
    return redirect(url_for("employer.index"), 303)


def _access_page(
    key_form: ApiKeyForm | None = None,
    webhook_form: WebhookForm | None = None,
    *,
    new_key: str | None = None,
    new_secret: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    organisation = _organisation()
    page = render_template(
        "organisations/access.html",
        organisation=organisation,
        keys=service.api_keys(db.session, organisation.id),
        hooks=webhooks.organisation_webhooks(db.session, organisation.id),
        key_form=key_form or ApiKeyForm(formdata=None),
        webhook_form=webhook_form or WebhookForm(formdata=None),
        new_key=new_key,
        new_secret=new_secret,
    )
    return page, status


@bp.get("/access")
@employer_required
def access() -> ResponseReturnValue:
    """The organisation's API keys and webhook endpoints."""
    return _access_page()


@bp.post("/api-keys")
@employer_required
@transactional()
def create_key() -> ResponseReturnValue:
    """A new API key, shown on this answer only (it is stored hashed)."""
    form = ApiKeyForm()
    if not form.validate_on_submit():
        discard(*_access_page(key_form=form, status=400))
    _row, key = service.create_api_key(
        db.session, _organisation(), name=form.name.data or "", actor=_actor(), now=utcnow()
    )
    return _access_page(new_key=key, status=201)


@bp.post("/api-keys/<key_id>/revoke")
@employer_required
@transactional({service.ApiKeyNotFound: lambda _: NotFound(gettext(NO_SUCH_KEY))})
def revoke_key(key_id: str) -> ResponseReturnValue:
    """Revoke one of the organisation's keys, effective at once."""
    service.revoke_api_key(db.session, _organisation().id, key_id, actor=_actor(), now=utcnow())
    flash(gettext("The API key is revoked: it no longer opens anything."), "success")
    return redirect(url_for("employer.access"), 303)


@bp.post("/webhooks")
@employer_required
@transactional()
def create_webhook() -> ResponseReturnValue:
    """Register an endpoint; its signing secret is shown on this answer only."""
    form = WebhookForm()
    if not form.validate_on_submit():
        discard(*_access_page(webhook_form=form, status=400))
    try:
        hook = webhooks.create_webhook(
            db.session,
            _organisation(),
            url=(form.url.data or "").strip(),
            events=list(form.events.data or []),
            allow_private=bool(current_app.config["WEBHOOK_ALLOW_PRIVATE"]),
            actor=_actor(),
            now=utcnow(),
        )
    except service.OrganisationError as exc:
        field = form.url if exc.field == "url" else form.events
        field.errors = [*field.errors, gettext(str(exc))]
        discard(*_access_page(webhook_form=form, status=400))
    return _access_page(new_secret=hook.secret, status=201)


@bp.post("/webhooks/<webhook_id>/disable")
@employer_required
@transactional({webhooks.WebhookNotFound: lambda _: NotFound(gettext(NO_SUCH_WEBHOOK))})
def disable_webhook(webhook_id: str) -> ResponseReturnValue:
    """Stop sending events to one of the organisation's endpoints."""
    webhooks.disable_webhook(
        db.session, _organisation().id, webhook_id, actor=_actor(), now=utcnow()
    )
    flash(gettext("The endpoint no longer receives events."), "success")
    return redirect(url_for("employer.access"), 303)


@bp.get("/verify")
@employer_required
def batch_form() -> ResponseReturnValue:
    """The CSV upload form."""
    return render_template("organisations/batch.html", form=CsvForm(formdata=None), problem=None)


@bp.post("/verify")
@employer_required
@transactional()
def verify_csv() -> ResponseReturnValue:
    """Verify every row of an uploaded CSV: a results table and the results as a CSV file.

    Each verification is recorded in the holder's history under the organisation's name.
    """
    form = CsvForm()
    upload = form.file.data
    problem: str | None = None
    rows: list[batch.CsvRow] = []
    if not form.validate_on_submit() or upload is None or not getattr(upload, "filename", ""):
        problem = gettext("Choose a CSV file to upload.")
    else:
        try:
            with upload.stream:  # a large upload is spooled to a temporary file
                data = upload.stream.read(batch.MAX_CSV_BYTES + 1)
            rows = batch.read_csv(data)
        except batch.CsvProblem as exc:
            problem = gettext(exc.message, **exc.values)
    if problem is not None:
        discard(render_template("organisations/batch.html", form=form, problem=problem), 400)
    organisation, language = _organisation(), current_language()
    answers = batch.verify_items(
        runtime().verifier, [row.item for row in rows], organisation, utcnow()
    )
    results = batch.results_csv(rows, answers, language)
    return render_template(
        "organisations/batch.html",
        form=CsvForm(formdata=None),
        problem=None,
        results=[
            (row, answer, result_view(answer, language))
            for row, answer in zip(rows, answers, strict=True)
        ],
        t=words(language),
        download="data:text/csv;charset=utf-8;base64,"
        + base64.b64encode(results.encode()).decode(),
    )
