"""An adapter's answer that breaks the record rules fails its check: logged, never printed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from certificate.checks.models import Check
from certificate.db import db
from certificate.runtime import runtime
from country_adapters.base import (
    ADAPTER_API_VERSION,
    Answer,
    Outcome,
    Pending,
    Query,
    Record,
)
from country_adapters.registry import LoadedAdapter
from tests.conftest import application_body, drain, logged


@dataclass
class RecordingAdapter:
    """An agency for Iceland that reports whatever record it was built with."""

    record: Record
    api_version: int = ADAPTER_API_VERSION
    country: str = "IS"
    authority: str = "Test Registry of Iceland"
    deadline: timedelta | None = None
    pollable: bool = False
    specimen: bool = True

    def submit(self, query: Query) -> Answer | Pending:
        return Answer(Outcome.RECORD_FOUND, (self.record,), datetime.now(UTC), "IS-9")

    def poll(self, query: Query) -> Answer | Pending:
        return Pending()


def _file_with(app: Flask, client: FlaskClient, auth: dict[str, str], record: Record) -> str:
    with app.app_context():
        runtime().registry.add(LoadedAdapter(RecordingAdapter(record), "test"))
    body = application_body(
        residences=[
            {"country": "IS", "from": "2012-09", "to": "2016-06"},
            {"country": "KE", "from": "2016-07", "to": None},
        ]
    )
    filed = client.post("/api/v1/applications", json=body, headers=auth)
    assert filed.status_code == 201, filed.get_json()
    drain(app)
    return str(filed.get_json()["id"])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("date", "2010-13-45"),
        ("date", "2099-99-99"),
        ("date", "2099-01-01"),
        ("category", "child_sexual_abus"),
        ("category", "Sexual assault"),
    ],
)
def test_a_bad_adapter_record_fails_the_check_and_is_never_stored(
    app: Flask,
    client: FlaskClient,
    auth: dict[str, str],
    caplog: pytest.LogCaptureFixture,
    field: str,
    value: str,
) -> None:
    good: dict[str, Any] = {
        "offence": "Assault",
        "category": "violence",
        "date": "2015-06-01",
        "court": "Reykjavik District Court",
        "sentence": "Fine",
    }
    with logged(caplog, "certificate.checks.service"):
        application_id = _file_with(app, client, auth, Record(**{**good, field: value}))
    with app.app_context():
        check = db.session.scalars(
            select(Check).where(Check.application_id == application_id, Check.country == "IS")
        ).one()
        assert (check.status, check.outcome, check.records) == ("failed", None, [])
        assert f"records.0.{field}" in (check.last_error or "")
    assert any(f"records.0.{field}" in message for message in caplog.messages)
    shown = client.get(f"/api/v1/applications/{application_id}", headers=auth).get_json()
    assert shown["certificate"] is None  # nothing issued, so nothing printed
    assert {c["country"]: c["status"] for c in shown["checks"]}["IS"] == "failed"


def test_a_good_adapter_record_is_stored(
    app: Flask, client: FlaskClient, auth: dict[str, str]
) -> None:
    record = Record("Assault", "violence", "2015-06", "Reykjavik District Court", "Fine")
    application_id = _file_with(app, client, auth, record)
    shown = client.get(f"/api/v1/applications/{application_id}", headers=auth).get_json()
    assert {c["country"]: c["outcome"] for c in shown["checks"]}["IS"] == "record_found"
    assert shown["certificate"] is not None
