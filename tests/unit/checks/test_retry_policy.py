"""What a failed adapter call does to a check's attempts and schedule."""

from __future__ import annotations

from datetime import UTC, datetime

import certificate.models  # noqa: F401 - every mapper configured
from certificate.checks.models import Check
from certificate.checks.service import apply_result
from country_adapters.base import AdapterError

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def _apply(check: Check, error: AdapterError) -> None:
    apply_result(
        None,
        check,
        error,
        now=NOW,
        retry_base=1,
        retry_cap=60,  # type: ignore[arg-type]
        max_attempts=3,
    )


def test_a_call_the_adapter_never_made_does_not_count_as_an_attempt() -> None:
    check = Check(country="KE", status="queued", attempts=3)
    _apply(check, AdapterError("circuit open", retry_after=30))
    assert (check.status, check.attempts) == ("queued", 2)
    assert check.next_attempt_at is not None
    assert 30 <= (check.next_attempt_at - NOW).total_seconds() <= 45
