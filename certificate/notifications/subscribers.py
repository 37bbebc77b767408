"""The e-mails that domain events cause (see certificate/events.py)."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from sqlalchemy import select

from certificate.applications.models import Application
from certificate.auth.models import Role, User
from certificate.checks.models import Check
from certificate.db import DbSession
from certificate.events import subscribe
from certificate.issuance.models import Certificate
from certificate.notifications.service import enqueue_mail, link
from country_adapters.countries import country_name


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
        language=application.language,
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
        enqueue_mail(
            session,
            to=officer.email,
            topic="new_query",
            language=officer.language or "en",
            now=now,
            country=country_name(check.country),
            link=link("/portal"),
        )


def subscribe_all(app: Flask) -> None:
    """Write these e-mails whenever their events are announced."""
    subscribe(app, "certificate.issued", certificate_issued)
    subscribe(app, "certificate.revoked", certificate_revoked)
    subscribe(app, "query.question_asked", question_asked)
    subscribe(app, "query.sent", query_sent)
