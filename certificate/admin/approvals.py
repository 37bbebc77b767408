"""The two-person rule: an admin's revocation or hand-entered answer waits for a second admin.

An admin asks (:func:`request_revocation`, :func:`request_hand_answer`); the
request is stored as a :class:`PendingAction` and changes nothing else. A
different admin then approves it (:func:`approve`), which applies the effect in
the same transaction, or any admin rejects it (:func:`reject`; the requester
rejecting their own request withdraws it). An action whose subject changed in
the meantime (the certificate was revoked, the check became final) is *stale*:
approving it is refused and changes nothing; it can only be rejected.

Every function works in the caller's transaction and records its audit event
there; the caller commits, or rolls back when one of the exceptions below is
raised. The audit events name the action's subject (the certificate or the
check), so a subject's history reads in one place; their details never hold
record content.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from certificate.admin.models import ActionKind, Decision, PendingAction
from certificate.admin.service import answer_by_hand
from certificate.applications.models import ApplicationStatus
from certificate.audit import record_event
from certificate.auth.models import Role, User
from certificate.checks.models import Check, CheckStatus
from certificate.checks.service import CheckNotFailed
from certificate.db import DbSession
from certificate.issuance.models import Certificate
from certificate.issuance.revocation import AlreadyRevoked, CertificateNotFound, revoke
from country_adapters.base import Answer, Outcome, Record

MAX_NOTE_LENGTH = 500

_NOT_IN_PROGRESS = "The application is no longer in progress (it was withdrawn)."
_SUBJECT_TYPE = {ActionKind.REVOKE_CERTIFICATE: "certificate", ActionKind.ANSWER_CHECK: "check"}


class ApprovalError(Exception):
    """Base of the refusals below; the message is a sentence fit to show an admin."""


class ActionNotFound(ApprovalError):
    """No pending action has this id."""


class NotAnAdmin(ApprovalError):
    """Only an active admin asks for, approves or rejects an action."""


class SelfApproval(ApprovalError):
    """The admin who asked for an action cannot approve it."""


class AlreadyDecided(ApprovalError):
    """The action was approved or rejected before."""


class StaleAction(ApprovalError):
    """The action's subject changed since it was asked for; approving it would be wrong."""


class AlreadyPending(ApprovalError):
    """The same kind of action already waits for approval on this subject."""

    def __init__(self, action: PendingAction) -> None:
        super().__init__("The same action already waits for a second administrator's approval.")
        self.action = action


@dataclass(frozen=True)
class Approved:
    """What an approval did; ``issuance_due`` names an application whose certificate may be owed."""

    action: PendingAction
    issuance_due: str | None = None


def actor_of(user: User) -> str:
    """How a user appears in the audit log."""
    return actor_of_id(user.id)


def actor_of_id(user_id: str) -> str:
    """How the user with this id appears in the audit log."""
    return f"user:{user_id}"


def _require_admin(user: User) -> None:
    if user.role != Role.ADMIN.value or not user.active:
        raise NotAnAdmin("Only the service's administrators may do this.")


def _audit(
    session: DbSession,
    action: PendingAction,
    event: str,
    *,
    actor: str,
    now: datetime,
    **details: Any,
) -> None:
    record_event(
        session,
        actor=actor,
        action=event,
        subject_type=_SUBJECT_TYPE[ActionKind(action.kind)],
        subject_id=action.subject_id,
        details={"approval_id": action.id, "kind": action.kind, **details},
        at=now,
    )


def _open_action(session: DbSession, kind: ActionKind, subject_id: str) -> PendingAction | None:
    return session.scalars(
        select(PendingAction)
        .where(
            PendingAction.kind == kind.value,
            PendingAction.subject_id == subject_id,
            PendingAction.decision.is_(None),
        )
        .order_by(PendingAction.requested_at)
        .limit(1)
    ).first()


def _new_action(
    session: DbSession,
    kind: ActionKind,
    subject_id: str,
    *,
    payload: dict[str, Any] | None,
    reason: str,
    requester: User,
    now: datetime,
    details: dict[str, Any],
) -> PendingAction:
    existing = _open_action(session, kind, subject_id)
    if existing is not None:
        raise AlreadyPending(existing)
    action = PendingAction(
        kind=kind.value,
        subject_id=subject_id,
        payload=payload,
        reason=reason,
        requested_by=requester.id,
        requested_at=now,
    )
    session.add(action)
    session.flush()
    _audit(session, action, "approval.requested", actor=actor_of(requester), now=now, **details)
    return action


def request_revocation(
    session: DbSession, certificate: Certificate, *, reason: str, requester: User, now: datetime
) -> PendingAction:
    """Ask for a certificate's revocation; it takes effect only once another admin approves.

    ValueError for a blank reason, AlreadyRevoked when it is revoked already,
    AlreadyPending when a revocation of it already waits for approval.
    """
    _require_admin(requester)
    reason = reason.strip()
    if not reason:
        raise ValueError("a reason is required")
    if certificate.revoked_at is not None:
        raise AlreadyRevoked(certificate.id)
    return _new_action(
        session,
        ActionKind.REVOKE_CERTIFICATE,
        certificate.id,
        payload=None,
        reason=reason,
        requester=requester,
        now=now,
        details={"reason": reason},
    )


def answer_payload(answer: Answer) -> dict[str, Any]:
    """An answer as stored in a pending action (it is sealed at rest with the column)."""
    return {
        "outcome": answer.outcome.value,
        "records": [asdict(record) for record in answer.records],
        "reference": answer.reference,
    }


def answer_from_payload(payload: dict[str, Any]) -> Answer:
    """The answer a pending action holds."""
    return Answer(
        outcome=Outcome(payload["outcome"]),
        records=tuple(Record(**record) for record in payload.get("records") or []),
        reference=payload.get("reference") or None,
    )


def request_hand_answer(
    session: DbSession,
    check: Check,
    answer: Answer,
    *,
    reason: str,
    requester: User,
    now: datetime,
) -> PendingAction:
    """Ask for an agency's answer, entered by hand, to be recorded on a ``failed`` check.

    Nothing changes on the check until another admin approves. ValueError for
    a blank reason, CheckNotFailed (from the checks service) when the check is
    not ``failed``, StaleAction when its application is no longer in progress
    (withdrawn), AlreadyPending when an answer for it already waits.
    """
    _require_admin(requester)
    reason = reason.strip()
    if not reason:
        raise ValueError("a reason is required")
    if check.status != CheckStatus.FAILED.value:
        raise CheckNotFailed(check.id)
    if check.application.status != ApplicationStatus.IN_PROGRESS.value:
        raise StaleAction(_NOT_IN_PROGRESS)
    return _new_action(
        session,
        ActionKind.ANSWER_CHECK,
        check.id,
        payload=answer_payload(answer),
        reason=reason,
        requester=requester,
        now=now,
        details={"country": check.country, "outcome": answer.outcome.value, "reason": reason},
    )


def open_actions(session: DbSession) -> list[PendingAction]:
    """Every action waiting for a decision, the oldest first."""
    return list(
        session.scalars(
            select(PendingAction)
            .where(PendingAction.decision.is_(None))
            .order_by(PendingAction.requested_at, PendingAction.id)
        )
    )


def recently_decided(session: DbSession, *, limit: int = 20) -> list[PendingAction]:
    """The latest decided actions, the most recent first."""
    return list(
        session.scalars(
            select(PendingAction)
            .where(PendingAction.decision.is_not(None))
            .order_by(PendingAction.decided_at.desc(), PendingAction.id)
            .limit(limit)
        )
    )


def open_action_subjects(session: DbSession, kind: ActionKind) -> set[str]:
    """The subjects (certificate or check ids) with an action of ``kind`` waiting for approval."""
    return set(
        session.scalars(
            select(PendingAction.subject_id).where(
                PendingAction.kind == kind.value, PendingAction.decision.is_(None)
            )
        )
    )


def open_action_for(session: DbSession, kind: ActionKind, subject_id: str) -> PendingAction | None:
    """The action of ``kind`` waiting for approval on this subject, if any."""
    return _open_action(session, kind, subject_id)


def stale_reason(session: DbSession, action: PendingAction, *, lock: bool = False) -> str | None:
    """Why approving the action now would be wrong, or None when it still applies.

    With ``lock`` the subject's row is locked (``FOR UPDATE`` on PostgreSQL)
    and re-read, so nothing changes it between this test and the effect.
    """
    kind = ActionKind(action.kind)
    model: type[Certificate] | type[Check] = (
        Certificate if kind is ActionKind.REVOKE_CERTIFICATE else Check
    )
    query = select(model).where(model.id == action.subject_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    subject = session.scalars(query).first()
    if kind is ActionKind.REVOKE_CERTIFICATE:
        if not isinstance(subject, Certificate):
            return "The certificate no longer exists."
        if subject.revoked_at is not None:
            return "The certificate has been revoked in the meantime."
        return None
    if not isinstance(subject, Check):
        return "The check no longer exists."
    if subject.status != CheckStatus.FAILED.value:
        return f"The check is no longer failed: it is now “{subject.status}”."
    if subject.application.status != ApplicationStatus.IN_PROGRESS.value:
        return _NOT_IN_PROGRESS
    if not action.payload:
        return "The answer is no longer stored."
    return None


def _lock_action(session: DbSession, action_id: str) -> PendingAction:
    action = session.scalars(
        select(PendingAction)
        .where(PendingAction.id == action_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if action is None:
        raise ActionNotFound("There is no pending action with this id.")
    if not action.is_open:
        raise AlreadyDecided(f"This action was {action.decision} already; nothing was changed.")
    return action


def approve(session: DbSession, action_id: str, *, approver: User, now: datetime) -> Approved:
    """Approve another admin's action and apply its effect in the same transaction.

    Refusals (nothing changed; the caller rolls back): ActionNotFound,
    NotAnAdmin, SelfApproval, AlreadyDecided, StaleAction.
    """
    _require_admin(approver)
    action = _lock_action(session, action_id)
    if action.requested_by == approver.id:
        raise SelfApproval(
            "You asked for this action yourself: a different administrator must approve it."
        )
    stale = stale_reason(session, action, lock=True)
    if stale is not None:
        raise StaleAction(f"{stale} This action can no longer be approved; reject it instead.")
    requester = actor_of_id(action.requested_by)
    _audit(session, action, "approval.approved", actor=actor_of(approver), now=now)
    issuance_due = None
    if action.kind == ActionKind.REVOKE_CERTIFICATE.value:
        try:
            revoke(session, action.subject_id, reason=action.reason, actor=requester, now=now)
        except (AlreadyRevoked, CertificateNotFound) as exc:  # pragma: no cover - tested above
            raise StaleAction("The certificate changed in the meantime.") from exc
    else:
        check = session.get(Check, action.subject_id)
        if check is None or action.payload is None:  # pragma: no cover - tested above
            raise StaleAction("The check or its answer is gone.")
        answer_by_hand(
            session,
            check,
            answer_from_payload(action.payload),
            now=now,
            actor=requester,
            reason=action.reason,
            approved_by=actor_of(approver),
        )
        issuance_due = check.application_id
    _decide(action, Decision.APPROVED, approver, now, note=None)
    return Approved(action, issuance_due)


def reject(
    session: DbSession, action_id: str, *, decider: User, now: datetime, note: str = ""
) -> PendingAction:
    """Reject an action (by its requester: withdraw it); nothing else changes.

    Refusals: ActionNotFound, NotAnAdmin, AlreadyDecided; ValueError for a
    note longer than ``MAX_NOTE_LENGTH``.
    """
    _require_admin(decider)
    note = note.strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise ValueError(f"the note must be at most {MAX_NOTE_LENGTH} characters")
    action = _lock_action(session, action_id)
    details: dict[str, Any] = {"withdrawn": action.requested_by == decider.id}
    if note:
        details["note"] = note
    _audit(session, action, "approval.rejected", actor=actor_of(decider), now=now, **details)
    _decide(action, Decision.REJECTED, decider, now, note=note or None)
    return action


def record_action_viewed(
    session: DbSession, action: PendingAction, *, viewer: User, now: datetime
) -> None:
    """Audit that an admin saw a pending action's content (records included, for an answer)."""
    _audit(session, action, "approval.viewed", actor=actor_of(viewer), now=now)


def _decide(
    action: PendingAction, decision: Decision, decider: User, now: datetime, *, note: str | None
) -> None:
    action.decision = decision.value
    action.decided_by = decider.id
    action.decided_at = now
    action.decision_note = note
    action.payload = None  # the records now live on the check, or nowhere: no copy is kept
