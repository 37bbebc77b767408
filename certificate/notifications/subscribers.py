"""The e-mails that domain events cause (see certificate/events.py).

Each is written in its recipient's language: the account's language (the
last one they chose on the pages), else, for a holder, the language they
chose for the certificate, else English.
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from sqlalchemy import select

from certificate.applications.models import Application
from certificate.auth.models import Role, User
from certificate.checks.models import Check
from certificate.db import DbSession
from certificate.events import subscribe
from certificate.i18n import cldr
from certificate.issuance.models import Certificate
from certificate.notifications.service import enqueue_mail, link


def _owner(session: DbSession, application: Application) -> User | None:
    user = session.get(User, application.user_id)
    return user if user is not None and user.active else None


def _to_owner(
    session: DbSession, application: Application, topic: str, now: datetime, **values: str
) -> None:
    owner = _owner(session, application)
    if owner is None:
        return
    enqueue_mail(
        session,
        to=owner.email,
        topic=topic,
        language=owner.language or application.language,
        now=now,
        link=link(f"/applications/{application.id}"),
        **values,
    )


def certificate_issued(session: DbSession, *, certificate: Certificate, now: datetime) -> None:
    """Tell the holder their certificate is ready."""
    _to_owner(
        session, certificate.application, "certificate_issued", now, certificate=certificate.id
    )


def certificate_revoked(session: DbSession, *, certificate: Certificate, now: datetime) -> None:
    """Tell the holder their certificate was revoked."""
    _to_owner(
        session, certificate.application, "certificate_revoked", now, certificate=certificate.id
    )


def question_asked(session: DbSession, *, check: Check, now: datetime) -> None:
    """Tell the applicant an officer asked them something (the question itself stays inside)."""
    _to_owner(session, check.application, "officer_question", now)


def query_sent(session: DbSession, *, check: Check, now: datetime) -> None:
    """Tell the officers of the check's country that a query waits in the portal."""
    officers = session.scalars(
        select(User).where(
            User.role == Role.AGENCY_OFFICER.value,
            User.country == check.country,
            User.active.is_(True),
        )
    )
    for officer in officers:
        language = officer.language or "en"
        enqueue_mail(
            session,
            to=officer.email,
            topic="new_query",
            language=language,
            now=now,
            country=cldr.country_name(check.country, language),
            link=link("/portal"),
        )


def subscribe_all(app: Flask) -> None:
    """Write these e-mails whenever their events are announced."""
    subscribe(app, "certificate.issued", certificate_issued)
    subscribe(app, "certificate.revoked", certificate_revoked)
    subscribe(app, "query.question_asked", question_asked)
    subscribe(app, "query.sent", query_sent)
