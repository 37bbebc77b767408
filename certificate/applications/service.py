"""Filing an application: store it, and create one check per country."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm.interfaces import ORMOption

from certificate.applications.models import Application, IdempotencyKey, Residence
from certificate.applications.schemas import ApplicationIn
from certificate.audit import record_event
from certificate.auth.models import User
from certificate.checks.models import Check, CheckStatus
from certificate.db import DbSession
from country_adapters.base import CountryAdapter


class IdempotencyConflict(Exception):
    """The Idempotency-Key was already used for a different request body."""


class ApplicationNotFound(Exception):
    """No such application, or not the caller's: the two are indistinguishable on purpose."""


def request_fingerprint(data: ApplicationIn) -> str:
    """A stable hash of a filing, to recognise a retry of the same request."""
    canonical = json.dumps(data.model_dump(mode="json", by_alias=True), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def countries_to_check(data: ApplicationIn) -> list[str]:
    """Every country of residence and of nationality, once each, in the order filed."""
    ordered = [r.country for r in data.residences] + list(data.applicant.nationalities)
    return list(dict.fromkeys(ordered))


def find_by_idempotency_key(
    session: DbSession, user: User, key: str, fingerprint: str
) -> Application | None:
    """The application an earlier request with this key created, if any.

    Raises IdempotencyConflict when the key was used for a different body.
    """
    row = session.scalars(
        select(IdempotencyKey).where(IdempotencyKey.user_id == user.id, IdempotencyKey.key == key)
    ).first()
    if row is None:
        return None
    if row.request_hash != fingerprint:
        raise IdempotencyConflict(key)
    return session.get(Application, row.application_id)


def file_application(
    session: DbSession,
    user: User,
    data: ApplicationIn,
    *,
    adapters: Callable[[str], CountryAdapter | None],
    default_deadline: timedelta,
    now: datetime,
    idempotency_key: str | None = None,
) -> tuple[Application, bool]:
    """Store a validated filing and its checks. Returns ``(application, created)``.

    With an ``idempotency_key`` that this user already used for the same body,
    the earlier application is returned and nothing new is stored.
    """
    fingerprint = request_fingerprint(data)
    if idempotency_key:
        existing = find_by_idempotency_key(session, user, idempotency_key, fingerprint)
        if existing is not None:
            return existing, False
    person = data.applicant
    application = Application(
        user_id=user.id,
        family_name=person.family_name,
        given_names=person.given_names,
        latin_family_name=person.latin_name.family_name if person.latin_name else None,
        latin_given_names=person.latin_name.given_names if person.latin_name else None,
        other_names=list(person.other_names),
        date_of_birth=person.date_of_birth,
        birth_city=person.place_of_birth.city,
        birth_country=person.place_of_birth.country,
        nationalities=list(person.nationalities),
        document_type=person.identity_document.type,
        document_number=person.identity_document.number,
        document_country=person.identity_document.issuing_country,
        document_expires=person.identity_document.expires,
        language=data.language,
        purpose=data.purpose,
        consent_at=now,
        created_at=now,
    )
    application.residences = [
        Residence(position=i, country=r.country, start=r.start, end=r.end)
        for i, r in enumerate(data.residences)
    ]
    for position, country in enumerate(countries_to_check(data)):
        application.checks.append(_new_check(position, country, adapters, default_deadline, now))
    session.add(application)
    session.flush()
    if idempotency_key:
        session.add(
            IdempotencyKey(
                user_id=user.id,
                key=idempotency_key,
                request_hash=fingerprint,
                application_id=application.id,
            )
        )
    record_event(
        session,
        actor=f"user:{user.id}",
        action="application.filed",
        subject_type="application",
        subject_id=application.id,
        details={"countries": [c.country for c in application.checks]},
        at=now,
    )
    session.flush()
    return application, True


def _new_check(
    position: int,
    country: str,
    adapters: Callable[[str], CountryAdapter | None],
    default_deadline: timedelta,
    now: datetime,
) -> Check:
    adapter = adapters(country)
    if adapter is None:
        return Check(
            position=position,
            country=country,
            status=CheckStatus.NOT_COVERED.value,
            created_at=now,
            finished_at=now,
        )
    return Check(
        position=position,
        country=country,
        status=CheckStatus.QUEUED.value,
        authority=adapter.authority,
        specimen=adapter.specimen,
        next_attempt_at=now,
        deadline_at=now + (adapter.deadline or default_deadline),
        created_at=now,
    )


def get_owned(
    session: DbSession, user: User, application_id: str, *, loading: Sequence[ORMOption] = ()
) -> Application:
    """The user's own application; ApplicationNotFound for anyone else's. ``loading``: the
    loader options of what the caller reads (such as :data:`~certificate.applications.
    presenters.APPLICATION_OUT_LOADING`)."""
    application = session.get(Application, application_id, options=loading)
    if application is None or application.user_id != user.id:
        raise ApplicationNotFound(application_id)
    return application


def list_owned(session: DbSession, user: User) -> list[Application]:
    """The user's applications, newest first."""
    return list(
        session.scalars(
            select(Application)
            .where(Application.user_id == user.id)
            .order_by(Application.created_at.desc(), Application.id)
        )
    )
