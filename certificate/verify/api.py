"""``POST /api/v1/verify`` and the published key set."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from certificate.api_common import json_body, parse
from certificate.caching import shareable
from certificate.db import db, utcnow
from certificate.errors import ApiError
from certificate.i18n import N_, current_language
from certificate.issuance.summary import claim_outcomes, summary_sentence
from certificate.openapi import operation
from certificate.rate_limits import per_client
from certificate.runtime import runtime
from certificate.signing.keys import jwks
from certificate.verify import service
from certificate.verify.schemas import (
    JsonWebKeySet,
    NumberVerification,
    TokenVerification,
    VerificationOut,
)

bp = Blueprint("verify_api", __name__)

PDF_MAGIC = b"%PDF-"

PDF_UPLOAD = {
    "type": "object",
    "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary"}},
}


#: One budget per client across every way of verifying (this API, the /v page's typed
#: number and its PDF upload): a prober cannot multiply the limit by switching routes.
verification_limit = per_client("VERIFY_RATE_LIMIT", scope="verification")


def verify_uploaded_pdf(data: bytes, organisation: str | None) -> service.Verification:
    """Verify uploaded PDF bytes; a non-PDF is a 400 and a huge page count a 413 (``ApiError``)."""
    if not data.startswith(PDF_MAGIC):
        raise ApiError(
            400,
            "invalid_request",
            N_("The uploaded file is not a PDF."),
            {"file": "is not a PDF document"},
        )
    rt = runtime()
    now = utcnow()
    pades = rt.issuance.pades
    try:
        return service.verify_pdf(
            rt.verifier,
            data,
            now,
            trust_roots=pades.trust_roots(now) if pades is not None else (),
            organisation=organisation,
        )
    except service.UnreadablePdf as exc:
        raise ApiError(
            400,
            "invalid_request",
            N_("The uploaded file is not a readable PDF."),
            {"file": "is not a readable PDF document"},
        ) from exc
    except service.TooManyPages as exc:
        raise ApiError(
            413,
            "payload_too_large",
            f"The uploaded PDF has too many pages to be a certificate ({exc}).",
            {"file": f"has more than {service.MAX_PDF_PAGES} pages"},
        ) from exc


def answer_body(result: service.Verification, language: str | None = None) -> dict[str, Any]:
    """The v2 verification answer, with ``summary_text``: the summary in words in
    ``language``, by default the one the client asks for (``Accept-Language``; else English)."""
    body = result.as_dict()
    outcomes = claim_outcomes(result.claims)
    body["summary_text"] = (
        None
        if outcomes is None
        else summary_sentence(outcomes.values(), language or current_language())
    )
    return body


def read_verification(body: Any) -> TokenVerification | NumberVerification:
    """What a JSON body asks to verify: a token, or a typed number with a date of birth;
    a 400 naming the field otherwise (``ApiError``)."""
    if isinstance(body, dict) and "token" in body:
        return parse(TokenVerification, body)
    if isinstance(body, dict) and ("certificate_id" in body or "date_of_birth" in body):
        return parse(NumberVerification, body)
    raise ApiError(
        400,
        "invalid_request",
        N_("Send a token, or a certificate_id with a date_of_birth, or a PDF as 'file'."),
        {"body": "needs token, or certificate_id and date_of_birth"},
    )


def verify_asked(
    verifier: service.Verifier, asked: TokenVerification | NumberVerification, now: datetime
) -> service.Verification:
    """Answer a verification read by :func:`read_verification`."""
    if isinstance(asked, TokenVerification):
        return service.verify_token(
            verifier, asked.token.strip(), now, organisation=asked.organisation
        )
    return service.verify_number(
        verifier, asked.certificate_id, asked.date_of_birth, now, organisation=asked.organisation
    )


def verify_request_body() -> service.Verification:
    """Verify whatever this request carries: a token, a typed number, or a PDF upload."""
    verifier = runtime().verifier
    now = utcnow()
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise ApiError(
                400,
                "invalid_request",
                N_("Upload the certificate PDF as field 'file'."),
                {"file": "is required"},
            )
        return verify_uploaded_pdf(upload.read(), request.form.get("organisation"))
    return verify_asked(verifier, read_verification(json_body()), now)


@bp.post("/api/v1/verify")
@operation(
    "Verify a certificate by token, typed number, or PDF upload",
    body=(TokenVerification, NumberVerification),
    extra_bodies={"multipart/form-data": PDF_UPLOAD},
    responses={200: VerificationOut},
    errors=(400, 413, 415, 429),
)
@verification_limit
def verify() -> ResponseReturnValue:
    """Is this certificate genuine and in force?"""
    result = verify_request_body()
    response = jsonify(answer_body(result))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/.well-known/jwks.json")
@operation("Published signing keys", responses={200: JsonWebKeySet})
@shareable
def published_keys() -> ResponseReturnValue:
    """Every public key that may still verify a certificate."""
    response = jsonify(jwks(db.session))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
