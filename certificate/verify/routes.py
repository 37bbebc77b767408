"""The public verification page, ``/v``, in English, French, Spanish and Arabic.

With a token in the URL fragment, ``static/verify.js`` sends it to the JSON
API and shows the answer (the fragment never reaches the server). Without
JavaScript, or without a token, the page offers typed verification and a PDF
upload; both are plain forms answered here with the same result block.

The language comes from ``?lang=`` (the selector's links), else the
browser's Accept-Language, else English; Arabic pages are right to left.
Forms post back to the same language. The verifier may name their
organisation; nothing else about them is recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import DateInput

from certificate.applications.models import Application
from certificate.db import db, utcnow
from certificate.errors import ApiError
from certificate.i18n import current_language, when
from certificate.runtime import runtime
from certificate.verify import service
from certificate.verify.api import verification_limit, verify_uploaded_pdf
from certificate.verify.i18n import page_words, words
from certificate.verify.presentation import ResultView, result_view

bp = Blueprint("verify", __name__)

#: English words, kept for code that shows a status or an outcome outside the page.
OUTCOME_WORDS: Mapping[str, str] = words("en")["outcomes"]


class NumberForm(FlaskForm):
    """The number printed on the certificate, and the holder's date of birth."""

    certificate_number = StringField(
        _l("Certificate number"),
        validators=[DataRequired(), Length(max=100)],
        render_kw={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"},
    )
    date_of_birth = StringField(
        _l("Holder's date of birth"),
        validators=[DataRequired()],
        widget=DateInput(),
        render_kw={"placeholder": "YYYY-MM-DD"},
    )
    organisation = StringField(
        _l("Your organisation"),
        validators=[Optional(), Length(max=service.MAX_ORGANISATION)],
        id="number-organisation",
        render_kw={"autocomplete": "organization"},
    )

    def birth_date(self, message: str) -> date | None:
        """The date of birth, or None (with ``message`` as field error) when not a real date."""
        try:
            return date.fromisoformat((self.date_of_birth.data or "").strip())
        except ValueError:
            self.date_of_birth.errors = [*self.date_of_birth.errors, message]
            return None


class UploadForm(FlaskForm):
    """The certificate PDF as the holder received it."""

    file = FileField(_l("Certificate PDF"), render_kw={"accept": "application/pdf,.pdf"})
    organisation = StringField(
        _l("Your organisation"),
        validators=[Optional(), Length(max=service.MAX_ORGANISATION)],
        id="upload-organisation",
        render_kw={"autocomplete": "organization"},
    )


def _page(
    result: ResultView | None = None,
    number_form: NumberForm | None = None,
    upload_form: UploadForm | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    language = current_language()
    table = words(language)
    form_args = {"lang": language} if request.args.get("lang") else {}
    number_form = number_form or NumberForm(formdata=None)
    upload_form = upload_form or UploadForm(formdata=None)
    # labels in the page's language, for the fields and the error summary alike
    number_form.certificate_number.label.text = table["number_label"]
    number_form.date_of_birth.label.text = table["dob_label"]
    number_form.organisation.label.text = table["organisation_label"]
    upload_form.file.label.text = table["file_label"]
    upload_form.organisation.label.text = table["organisation_label"]
    response = render_template(
        "verify/page.html",
        result=result,
        number_form=number_form,
        upload_form=upload_form,
        words=page_words(language),
        t=words(language),
        # a language chosen with ?lang= sticks to the forms' answers
        form_args=form_args,
    )
    return response, status, {"Cache-Control": "no-store", "Vary": "Accept-Language"}


def _translated_errors(form: FlaskForm, language: str) -> None:
    """Replace the validators' English messages with the page's language."""
    table = words(language)
    for form_field in form:
        if form_field.errors:
            form_field.errors = [
                table["required"] if "required" in str(message).lower() else message
                for message in form_field.errors
            ]


@bp.get("/v")
def page() -> ResponseReturnValue:
    """The verification page (a token, if any, stays in the fragment and is read by script)."""
    return _page()


@bp.post("/v")
@verification_limit
def verify_number() -> ResponseReturnValue:
    """Typed verification: certificate number and date of birth, sent in the body."""
    language = current_language()
    form = NumberForm()
    if not form.validate_on_submit():
        _translated_errors(form, language)
        return _page(number_form=form, status=400)
    born = form.birth_date(words(language)["not_a_date"])
    if born is None:
        return _page(number_form=form, status=400)
    verification = service.verify_number(
        runtime().verifier,
        form.certificate_number.data or "",
        born,
        utcnow(),
        organisation=form.organisation.data,
    )
    return _page(result_view(verification, language), number_form=form)


@bp.post("/v/upload")
@verification_limit
def verify_upload() -> ResponseReturnValue:
    """PDF verification: the file must be byte for byte a certificate this service issued."""
    language = current_language()
    form = UploadForm()
    upload = form.file.data
    data = upload.read() if upload is not None and hasattr(upload, "read") else b""
    if not data:
        form.file.errors = [words(language)["choose_file"]]
        return _page(upload_form=form, status=400)
    try:
        verification = verify_uploaded_pdf(data, form.organisation.data)
    except ApiError as exc:
        form.file.errors = list(exc.fields.values()) or [exc.message]
        return _page(upload_form=form, status=exc.status)
    return _page(result_view(verification, language), upload_form=form)


# --------------------------------------------------------------------------
# The holder's view of who checked their certificate (progress page)

HOW_WORDS = {
    "token": _l("Scanned the QR code"),
    "number": _l("Typed the number and date of birth"),
    "pdf": _l("Uploaded the PDF"),
}


@dataclass(frozen=True)
class HistoryEntry:
    """One verification as its holder sees it."""

    certificate_id: str
    when: str
    how: str
    result: str
    organisation: str | None


@bp.app_template_global("verification_history")
def verification_history(application: Application) -> list[HistoryEntry]:
    """The verifications of an application's certificates, newest first.

    Only the progress page calls this, after checking the viewer owns the
    application.
    """
    statuses = words(current_language())["statuses"]
    rows = service.verification_history(
        db.session, runtime().verifier.history, [c.id for c in application.certificates]
    )
    return [
        HistoryEntry(
            certificate_id=row.certificate_id,
            when=when(row.verified_at),
            how=HOW_WORDS.get(row.method, row.method),
            result=statuses.get(row.result, row.result),
            organisation=row.organisation,
        )
        for row in rows
    ]
