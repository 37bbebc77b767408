"""``/admin/approvals``: actions one admin asked for, approved or rejected by another.

Every admin sees every pending action. Approving applies it (a revocation, an
answer entered by hand) at once; the admin who asked cannot approve it (403),
an action decided before or whose subject changed meanwhile is refused (409)
and nothing changes. Only an answer's detail page shows its records, and each
showing is audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import Conflict, Forbidden, NotFound

from certificate.admin import approvals
from certificate.admin.forms import ApproveForm, RejectForm
from certificate.admin.models import ActionKind, PendingAction
from certificate.agency.forms import OUTCOME_SHORT
from certificate.auth.access import admin_required
from certificate.auth.models import User
from certificate.checks.models import Check
from certificate.db import db, utcnow
from certificate.i18n import country_name
from certificate.runtime import runtime
from certificate.web.dates import when
from certificate.web.transaction import after_commit, transactional

bp = Blueprint("admin_approvals", __name__, url_prefix="/admin/approvals")

KIND_WORDS = {
    ActionKind.REVOKE_CERTIFICATE.value: _l("Revoke a certificate"),
    ActionKind.ANSWER_CHECK.value: _l("Answer a failed check by hand"),
}


@dataclass(frozen=True)
class Row:
    """One action as the pages show it."""

    action: PendingAction
    kind: str
    subject: str
    requested_by: str
    decided_by: str | None
    mine: bool
    stale: str | None


def _me() -> User:
    user: User = current_user._get_current_object()
    return user


def _user_names(ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    users = db.session.scalars(select(User).where(User.id.in_(ids)))
    return {user.id: f"{user.name} <{user.email}>" for user in users}


def _subject(action: PendingAction) -> str:
    if action.kind == ActionKind.REVOKE_CERTIFICATE.value:
        return gettext("Certificate %(number)s", number=action.subject_id)
    check = db.session.get(Check, action.subject_id)
    country = country_name(check.country) if check is not None else "unknown country"
    return gettext(
        "Check %(number)s (%(country)s)", number=action.subject_id[:8].upper(), country=country
    )


def _rows(actions: list[PendingAction], *, with_staleness: bool) -> list[Row]:
    names = _user_names(
        {a.requested_by for a in actions} | {a.decided_by for a in actions if a.decided_by}
    )
    me = _me()
    return [
        Row(
            action=action,
            kind=KIND_WORDS.get(action.kind, action.kind),
            subject=_subject(action),
            requested_by=names.get(action.requested_by, action.requested_by),
            decided_by=names.get(action.decided_by, action.decided_by)
            if action.decided_by
            else None,
            mine=action.requested_by == me.id,
            stale=approvals.stale_reason(db.session, action) if with_staleness else None,
        )
        for action in actions
    ]


def _found_or_404(action_id: str) -> PendingAction:
    action = db.session.get(PendingAction, action_id)
    if action is None:
        abort(404, gettext("There is no pending action with this id."))
    return action


@bp.get("")
@admin_required
def index() -> ResponseReturnValue:
    """Every action waiting for a second admin, the oldest first, and the latest decided ones."""
    return render_template(
        "admin/approvals.html",
        pending=_rows(approvals.open_actions(db.session), with_staleness=True),
        decided=_rows(approvals.recently_decided(db.session), with_staleness=False),
        when=when,
    )


@bp.get("/<action_id>")
@admin_required
@transactional()  # an answer's records shown is an audited view
def show(action_id: str) -> ResponseReturnValue:
    """One action in full, with the forms to approve or reject it; an answer's records are shown."""
    action = _found_or_404(action_id)
    (row,) = _rows([action], with_staleness=action.is_open)
    if action.payload is not None:
        approvals.record_action_viewed(db.session, action, viewer=_me(), now=utcnow())
    return render_template(
        "admin/approval.html",
        row=row,
        action=action,
        answer=action.payload if action.kind == ActionKind.ANSWER_CHECK.value else None,
        outcome_words=OUTCOME_SHORT,
        approve_form=ApproveForm(formdata=None),
        reject_form=RejectForm(formdata=None),
        when=when,
    )


@bp.post("/<action_id>/approve")
@admin_required
@transactional(
    {
        approvals.ActionNotFound: lambda exc: NotFound(str(exc)),
        approvals.SelfApproval: lambda exc: Forbidden(str(exc)),
        approvals.NotAnAdmin: lambda exc: Forbidden(str(exc)),
        approvals.AlreadyDecided: lambda exc: Conflict(str(exc)),
        approvals.StaleAction: lambda exc: Conflict(str(exc)),
    }
)
def approve(action_id: str) -> ResponseReturnValue:
    """Approve another admin's action: its effect happens now, in the same transaction."""
    if not ApproveForm().validate_on_submit():
        abort(400, gettext("The form has expired; reload the page and try again."))
    approved = approvals.approve(db.session, action_id, approver=_me(), now=utcnow())
    action = approved.action
    subject = _subject(action)
    due = approved.issuance_due
    if due is not None:
        after_commit(lambda: runtime().jobs.submit_issuance(due))
    if action.kind == ActionKind.REVOKE_CERTIFICATE.value:
        flash(gettext("Approved: %(subject)s is revoked.", subject=subject), "success")
    else:
        flash(
            gettext("Approved: %(subject)s has its answer recorded; it is final.", subject=subject),
            "success",
        )
    return redirect(url_for("admin_approvals.index"), 303)


@bp.post("/<action_id>/reject")
@admin_required
@transactional(
    {
        approvals.ActionNotFound: lambda exc: NotFound(str(exc)),
        approvals.NotAnAdmin: lambda exc: Forbidden(str(exc)),
        approvals.AlreadyDecided: lambda exc: Conflict(str(exc)),
    }
)
def reject(action_id: str) -> ResponseReturnValue:
    """Reject an action (or withdraw one's own); nothing else changes."""
    form = RejectForm()
    if not form.validate_on_submit():
        abort(
            400,
            gettext(
                "The note is too long, or the form has expired; reload the page and try again."
            ),
        )
    action = approvals.reject(
        db.session, action_id, decider=_me(), now=utcnow(), note=form.note.data or ""
    )
    subject = _subject(action)
    withdrawn = action.requested_by == action.decided_by
    if withdrawn:
        flash(gettext("Withdrawn: %(subject)s. Nothing was changed.", subject=subject), "info")
    else:
        flash(gettext("Rejected: %(subject)s. Nothing was changed.", subject=subject), "info")
    return redirect(url_for("admin_approvals.index"), 303)
