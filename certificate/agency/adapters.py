"""Adapters for the agencies an operator registered with ``flask agencies add``.

:class:`AgencySource` puts them into the one adapter registry, ahead of
installed packages (precedence :data:`AGENCY_PRECEDENCE`): an enabled agency
answers for its country; disabling it hands the country back to any package.
Agencies are read from the database on every call, so one added with
``flask agencies add`` is used at once, without a restart.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask, has_app_context
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from certificate.agency.models import Agency, AgencyMode
from certificate.agency.service import add_working_days, enabled_agency
from certificate.db import DbSession, db, utcnow
from certificate.signing import jws
from certificate.signing.keys import KeyStore, active_key
from country_adapters.base import CountryAdapter
from country_adapters.http_push import PushAdapter
from country_adapters.inbox import InboxAdapter
from country_adapters.registry import Coverage

AGENCY_PRECEDENCE = 10


@dataclass(frozen=True)
class PushSettings:
    """How the service calls push-mode agencies."""

    issuer: str
    base_url: str
    timeout: float
    breaker_failures: int
    breaker_reset_seconds: float
    max_concurrent: int = 4


def agency_adapter(
    session: DbSession, agency: Agency, *, now: datetime, keys: KeyStore, push: PushSettings
) -> CountryAdapter:
    """The adapter that serves ``agency``'s country in its mode."""
    deadline = add_working_days(now, agency.deadline_working_days) - now
    if agency.mode != AgencyMode.PUSH.value:
        return InboxAdapter(country=agency.country, authority=agency.name, deadline=deadline)
    key = active_key(session, keys)
    private_key, kid = keys.private_key(key.kid), key.kid

    def sign(claims: dict[str, Any]) -> str:
        return jws.sign({"iss": push.issuer, **claims}, private_key, kid, typ=jws.PUSH_QUERY_TYP)

    def answer_url(check_id: str) -> str:
        return f"{push.base_url}/api/v1/agency/queries/{check_id}/answer"

    assert agency.endpoint is not None  # noqa: S101 - push agencies always have one
    return PushAdapter(
        country=agency.country,
        authority=agency.name,
        agency_id=agency.id,
        endpoint=agency.endpoint,
        deadline=deadline,
        sign=sign,
        answer_url=answer_url,
        timeout=push.timeout,
        breaker_failures=push.breaker_failures,
        breaker_reset_seconds=push.breaker_reset_seconds,
        max_concurrent=push.max_concurrent,
    )


@dataclass(frozen=True)
class AgencySource:
    """The enabled agencies in the database, as a source of the adapter registry.

    Reads through the current database session (the caller's transaction),
    or in an app context of its own when called outside one; a database not
    migrated yet serves nothing.
    """

    app: Flask
    keys: KeyStore
    push: PushSettings

    def served(self) -> list[Coverage]:
        """One line per enabled agency."""
        with self._context():
            try:
                agencies = db.session.scalars(
                    select(Agency).where(Agency.enabled.is_(True)).order_by(Agency.country)
                ).all()
            except SQLAlchemyError:
                db.session.rollback()
                return []
            return [
                Coverage(a.country, f"{a.mode} agency", f"agency {a.id} in the database: {a.name}")
                for a in agencies
            ]

    def adapter(self, country: str) -> CountryAdapter | None:
        """The adapter of ``country``'s enabled agency, if one is registered."""
        with self._context():
            agency = enabled_agency(db.session, country)
            if agency is None:
                return None
            return agency_adapter(db.session, agency, now=utcnow(), keys=self.keys, push=self.push)

    def _context(self) -> AbstractContextManager[object]:
        return nullcontext() if has_app_context() else self.app.app_context()


def push_settings(config: Any) -> PushSettings:
    """How push-mode agencies are called, from the ``IPC_PUSH_*`` settings."""
    return PushSettings(
        issuer=str(config["ISSUER"]),
        base_url=config["BASE_URL"],
        timeout=float(config["PUSH_TIMEOUT_SECONDS"]),
        breaker_failures=int(config["PUSH_BREAKER_FAILURES"]),
        breaker_reset_seconds=float(config["PUSH_BREAKER_RESET_SECONDS"]),
        max_concurrent=int(config["PUSH_MAX_CONCURRENT"]),
    )


def add_agency_source(app: Flask) -> None:
    """Put the database agencies into the app's adapter registry, ahead of packages."""
    from certificate.runtime import EXTENSION_KEY

    runtime = app.extensions[EXTENSION_KEY]
    runtime.registry.add_source(
        AgencySource(app=app, keys=runtime.keys, push=push_settings(app.config)), AGENCY_PRECEDENCE
    )
