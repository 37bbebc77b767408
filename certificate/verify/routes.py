"""The public verification page, ``/v``.

With a token in the URL fragment, ``static/verify.js`` sends it to the JSON
API and shows the answer (the fragment never reaches the server). Without
JavaScript, or without a token, the page offers typed verification and a PDF
upload; both are plain forms answered here with the same result block.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import DateInput

from certificate.db import db, utcnow
from certificate.extensions import limiter
from certificate.issuance.claims import OUTCOME_CODES, decode_outcomes
from certificate.runtime import runtime
from certificate.verify import service
from certificate.verify.api import PDF_MAGIC, verify_limit
from country_adapters.countries import all_countries, country_name

bp = Blueprint("verify", __name__)


STATUS_WORDS = {
    "valid": "Valid",
    "revoked": "Revoked",
    "expired": "Expired",
    "superseded": "Superseded",
    "invalid": "Invalid",
    "unknown": "Not found",
}
OUTCOME_WORDS = {
    "NR": "No record",
    "RF": "Record found",
    "IU": "Identity unconfirmed",
    "NA": "Did not answer: not confirmed",
    "NC": "Not covered: not checked",
}


class NumberForm(FlaskForm):
    """The number printed on the certificate, and the holder's date of birth."""

    certificate_number = StringField(
        "Certificate number",
        validators=[DataRequired(message="is required"), Length(max=100)],
        description="As printed on the certificate, e.g. 7K2M-9QXD-…; case and spaces do not matter.",
        render_kw={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"},
    )
    date_of_birth = StringField(
        "Holder's date of birth",
        validators=[DataRequired(message="is required")],
        widget=DateInput(),
        render_kw={"placeholder": "YYYY-MM-DD"},
    )

    def birth_date(self) -> date | None:
        """The date of birth, or None (with a field error) when it is not a real date."""
        try:
            return date.fromisoformat((self.date_of_birth.data or "").strip())
        except ValueError:
            self.date_of_birth.errors = [
                *self.date_of_birth.errors,
                "must be a real date (day, month and year)",
            ]
            return None


class UploadForm(FlaskForm):
    """The certificate PDF as the holder received it."""

    file = FileField("Certificate PDF", render_kw={"accept": "application/pdf,.pdf"})


@dataclass(frozen=True)
class CountryLine:
    """One country's outcome as the certificate states it."""

    code: str
    name: str
    outcome: str
    words: str


@dataclass(frozen=True)
class ResultView:
    """What the page shows about one verification."""

    status: str
    title: str
    reason: str
    holder: str | None = None
    date_of_birth: str | None = None
    number: str | None = None
    issued: str | None = None
    expires: str | None = None
    specimen: bool = False
    countries: list[CountryLine] = field(default_factory=list)


def _epoch_day(value: Any) -> str | None:
    try:
        return datetime.fromtimestamp(int(value), UTC).date().isoformat()
    except (TypeError, ValueError, OverflowError):
        return None


def country_outcomes(claim: Any) -> list[tuple[str, str]]:
    """``(country, outcome code)`` pairs from the signed ``c`` claim (see issuance/claims.py)."""
    if not isinstance(claim, dict):
        return []
    try:
        decoded = decode_outcomes(claim)
    except (KeyError, TypeError):
        return []
    pairs = [(country, OUTCOME_CODES[outcome]) for country, outcome in decoded.items()]
    return sorted(pairs, key=lambda pair: country_name(pair[0]))


def result_view(verification: service.Verification) -> ResultView:
    """The answer in words; an invalid token's claims are never shown."""
    status = verification.status
    title, reason = STATUS_WORDS[status], service.REASONS[status]
    claims = verification.claims
    if claims is None or status in ("invalid", "unknown"):
        return ResultView(status, title, reason)
    holder = " ".join(str(claims[k]) for k in ("gn", "fn") if claims.get(k))
    countries = [
        CountryLine(code, country_name(code), outcome_code, OUTCOME_WORDS[outcome_code])
        for code, outcome_code in country_outcomes(claims.get("c"))
    ]
    return ResultView(
        status,
        title,
        reason,
        holder=holder or None,
        date_of_birth=str(claims["dob"]) if claims.get("dob") else None,
        number=str(claims["jti"]) if claims.get("jti") else None,
        issued=_epoch_day(claims.get("iat")),
        expires=_epoch_day(claims.get("exp")),
        specimen=claims.get("spc") is True,
        countries=countries,
    )


def page_words() -> dict[str, Any]:
    """The words verify.js uses, so the page and the script say the same thing."""
    return {
        "statuses": STATUS_WORDS,
        "reasons": service.REASONS,
        "outcomes": OUTCOME_WORDS,
        "countries": dict(all_countries()),
    }


def _page(
    result: ResultView | None = None,
    number_form: NumberForm | None = None,
    upload_form: UploadForm | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    response = render_template(
        "verify/page.html",
        result=result,
        number_form=number_form or NumberForm(formdata=None),
        upload_form=upload_form or UploadForm(formdata=None),
        words=page_words(),
    )
    return response, status, {"Cache-Control": "no-store"}


@bp.get("/v")
def page() -> ResponseReturnValue:
    """The verification page (a token, if any, stays in the fragment and is read by script)."""
    return _page()


@bp.post("/v")
@limiter.limit(verify_limit)
def verify_number() -> ResponseReturnValue:
    """Typed verification: certificate number and date of birth, sent in the body."""
    form = NumberForm()
    if not form.validate_on_submit():
        return _page(number_form=form, status=400)
    born = form.birth_date()
    if born is None:
        return _page(number_form=form, status=400)
    verification = service.verify_number(
        db.session, runtime().public_keys, form.certificate_number.data or "", born, utcnow()
    )
    db.session.commit()
    return _page(result_view(verification), number_form=form)


@bp.post("/v/upload")
@limiter.limit(verify_limit)
def verify_upload() -> ResponseReturnValue:
    """PDF verification: the file must be byte for byte a certificate this service issued."""
    form = UploadForm()
    upload = form.file.data
    data = upload.read() if upload is not None and hasattr(upload, "read") else b""
    if not data:
        form.file.errors = ["choose the certificate's PDF file"]
        return _page(upload_form=form, status=400)
    if not data.startswith(PDF_MAGIC):
        form.file.errors = ["is not a PDF document"]
        return _page(upload_form=form, status=400)
    verification = service.verify_pdf(db.session, runtime().public_keys, data, utcnow())
    db.session.commit()
    return _page(result_view(verification), upload_form=form)
