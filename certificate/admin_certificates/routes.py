"""``/admin/certificates``: list and search issued certificates, ask to revoke one with a reason.

The pages show what an administrator needs to act on a certificate (its
number, generation, dates and status) and never the holder's identity or
records. An admin's revocation takes effect only once a second admin approves
it on ``/admin/approvals`` (the two-person rule); the operator command
``flask certificates revoke`` still revokes at once.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user

from certificate.admin import approvals
from certificate.admin.models import ActionKind
from certificate.admin_certificates.forms import RevokeForm, SearchForm
from certificate.auth.access import admin_required
from certificate.db import db, utcnow
from certificate.issuance.models import Certificate
from certificate.issuance.revocation import (
    AlreadyRevoked,
    find_certificate,
    recent_certificates,
)
from certificate.web.transaction import discard, transactional

bp = Blueprint("admin_certificates", __name__, url_prefix="/admin/certificates")


def _page(
    certificates: list[Certificate],
    search: SearchForm,
    *,
    searched: bool = False,
    status: int = 200,
) -> ResponseReturnValue:
    now = utcnow()
    rows = [(certificate, certificate.status_at(now).value) for certificate in certificates]
    body = render_template(
        "admin/certificates.html",
        rows=rows,
        search=search,
        searched=searched,
        awaiting=approvals.open_action_subjects(db.session, ActionKind.REVOKE_CERTIFICATE),
    )
    return body, status


@bp.get("")
@admin_required
def index() -> ResponseReturnValue:
    """The most recently issued certificates, newest first."""
    return _page(recent_certificates(db.session), SearchForm(formdata=None))


@bp.post("")
@admin_required
def search() -> ResponseReturnValue:
    """Find one certificate by the number printed on it (sent in the body, not the URL)."""
    form = SearchForm()
    if not form.validate_on_submit():
        return _page([], form, searched=True, status=400)
    found = find_certificate(db.session, form.number.data or "")
    return _page([found] if found else [], form, searched=True)


def _revoke_page(
    certificate: Certificate, form: RevokeForm, status: int = 200
) -> ResponseReturnValue:
    body = render_template(
        "admin/certificates_revoke.html",
        certificate=certificate,
        status=certificate.status_at(utcnow()).value,
        form=form,
        pending=approvals.open_action_for(
            db.session, ActionKind.REVOKE_CERTIFICATE, certificate.id
        ),
    )
    return body, status


@bp.route("/<certificate_id>/revoke", methods=["GET", "POST"])
@admin_required
@transactional()
def revoke_certificate(certificate_id: str) -> ResponseReturnValue:
    """Ask for a reason, then ask for the revocation; a second admin's approval makes it happen."""
    certificate = find_certificate(db.session, certificate_id)
    if certificate is None:
        abort(404, gettext("There is no certificate with this number."))
    form = RevokeForm()
    if not form.is_submitted():
        return _revoke_page(certificate, form)
    if not form.validate():
        return _revoke_page(certificate, form, status=400)
    try:
        approvals.request_revocation(
            db.session,
            certificate,
            reason=form.reason.data or "",
            requester=current_user._get_current_object(),
            now=utcnow(),
        )
    except AlreadyRevoked:
        flash(gettext("Certificate %(number)s was already revoked.", number=certificate.id), "info")
        discard(redirect(url_for("admin_certificates.index")))
    except approvals.AlreadyPending:
        flash(
            gettext(
                "A revocation of certificate %(number)s already waits for approval.",
                number=certificate.id,
            ),
            "info",
        )
        discard(redirect(url_for("admin_approvals.index")))
    except ValueError:
        form.reason.errors = [gettext("is required")]
        discard(_revoke_page(certificate, form, status=400))
    flash(
        gettext(
            "The revocation of certificate %(number)s waits for a second administrator's "
            "approval; the certificate stays valid until then.",
            number=certificate.id,
        ),
        "success",
    )
    return redirect(url_for("admin_certificates.index"))
