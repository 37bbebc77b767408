"""Adapters for the agencies an operator registered with ``flask agencies add``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from certificate.agency.models import Agency, AgencyMode
from certificate.agency.service import add_working_days
from certificate.db import DbSession
from certificate.signing import jws
from certificate.signing.keys import KeyStore, active_key
from country_adapters.base import CountryAdapter
from country_adapters.http_push import PushAdapter
from country_adapters.portal import InboxAdapter


@dataclass(frozen=True)
class PushSettings:
    """How the service calls push-mode agencies."""

    issuer: str
    base_url: str
    timeout: float
    breaker_failures: int
    breaker_reset_seconds: float


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
    )
