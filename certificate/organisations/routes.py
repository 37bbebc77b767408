"""The candidate's page for a request: what is asked, by whom, and the choice to share or stop."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user
from werkzeug.exceptions import BadRequest, NotFound

from certificate.applications.service import list_owned
from certificate.auth.access import applicant_required
from certificate.db import db, utcnow
from certificate.i18n import N_
from certificate.organisations import requests
from certificate.organisations.models import CandidateRequest
from certificate.web.transaction import transactional

bp = Blueprint("requests", __name__)

NO_SUCH_REQUEST = N_("There is no such request.")
CHOOSE = N_("Choose one of your applications to share.")


def _request_for_candidate(request_id: str) -> CandidateRequest:
    try:
        return requests.request_for_candidate(
            db.session, request_id, current_user._get_current_object()
        )
    except requests.RequestNotFound:
        abort(404, gettext(NO_SUCH_REQUEST))


@bp.get("/requests/<request_id>")
@applicant_required
def show(request_id: str) -> ResponseReturnValue:
    """Who asks, why, and the candidate's applications to choose from."""
    item = _request_for_candidate(request_id)
    return render_template(
        "organisations/request.html",
        item=item,
        applications=list_owned(db.session, current_user._get_current_object()),
    )


@bp.post("/requests/<request_id>/share")
@applicant_required
@transactional(
    dict.fromkeys(
        (requests.RequestNotFound, requests.NotShareable),
        lambda _: BadRequest(gettext(CHOOSE)),
    )
)
def share(request_id: str) -> ResponseReturnValue:
    """Share the chosen application (the candidate's consent)."""
    item = _request_for_candidate(request_id)
    requests.share(
        db.session,
        item.id,
        current_user._get_current_object(),
        request.form.get("application_id", ""),
        now=utcnow(),
    )
    flash(
        gettext(
            "Shared with %(organisation)s. You can stop sharing at any time.",
            organisation=item.organisation.name,
        ),
        "success",
    )
    return redirect(url_for("requests.show", request_id=item.id), 303)


@bp.post("/requests/<request_id>/stop")
@applicant_required
@transactional({requests.RequestNotFound: lambda _: NotFound(gettext(NO_SUCH_REQUEST))})
def stop(request_id: str) -> ResponseReturnValue:
    """Stop sharing: the organisation sees nothing more."""
    item = _request_for_candidate(request_id)
    requests.stop_sharing(db.session, item.id, current_user._get_current_object(), now=utcnow())
    flash(
        gettext(
            "%(organisation)s no longer sees your certificate.",
            organisation=item.organisation.name,
        ),
        "success",
    )
    return redirect(url_for("requests.show", request_id=item.id), 303)
