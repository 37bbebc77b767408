"""Audit findings on the agency side: withdrawal closes queries (5), an assertion is spent
whatever the answer (9), and an agency's reference is one line of text (11)."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import drain
from tests.integration.agency import test_agency_api
from tests.integration.agency.test_agency_api import RECORDS, World
from tests.integration.agency.test_portal import (
    answer,
    check_of,
    file_application,
    login,
    make_user,
    portal_agencies,
)

world = test_agency_api.world  # the agency API tests' fixture: two agencies, one filing

# --- finding 5: withdrawal closes the application's queries in the same transaction


def _withdraw(client: FlaskClient, application_id: str, headers: dict[str, str]) -> None:
    response = client.post(f"/api/v1/applications/{application_id}/withdraw", headers=headers)
    assert response.status_code == 200, response.get_json()


def test_a_withdrawn_applications_query_leaves_the_agency_api(world: World) -> None:
    """The auditor withdrew, then fetched the agency's queries (passport number included)
    and answered one: the records were stored. Now the query is gone and the answer is 409."""
    listed = world.client.get("/api/v1/agency/queries", headers=world.iceland.headers())
    assert [q["id"] for q in listed.get_json()["queries"]] == [world.checks["IS"]]

    _withdraw(world.client, world.application_id, world.applicant)

    listed = world.client.get("/api/v1/agency/queries", headers=world.iceland.headers())
    assert listed.status_code == 200
    assert listed.get_json()["queries"] == []
    assert "A1234567" not in listed.get_data(as_text=True)
    before = world.audit_count()
    status, error = world.answer(
        world.iceland,
        world.checks["IS"],
        {"outcome": "record_found", "records": RECORDS},
    )
    assert status == 409, error
    assert error["error"]["code"] == "query_closed"
    check = world.check("IS")
    assert (check.status, check.outcome, check.records) == ("sent", None, [])
    assert world.audit_count() == before


def test_an_officer_cannot_open_or_answer_a_withdrawn_query(
    app: Flask, client: FlaskClient
) -> None:
    portal_agencies(app, "KE")
    application_id = file_application(client)
    drain(app)
    ke = check_of(app, application_id, "KE").id
    make_user(app, "officer.ke@example.org", "agency-officer", "KE")
    portal = login(app, "officer.ke@example.org")
    assert ke in portal.get("/portal").get_data(as_text=True)

    token = client.post(
        "/api/v1/tokens", json={"email": "ada@example.org", "password": "correct horse battery"}
    ).get_json()["access_token"]
    _withdraw(client, application_id, {"Authorization": f"Bearer {token}"})

    assert ke not in portal.get("/portal").get_data(as_text=True)
    opened = portal.get(f"/portal/queries/{ke}")
    assert opened.status_code == 410
    assert "A1234567" not in opened.get_data(as_text=True)
    answered = answer(portal, ke, {"outcome": "no_record"}, confirm=True)
    assert answered.status_code == 409
    asked = portal.post(f"/portal/queries/{ke}/question", data={"question": "Which city?"})
    assert asked.status_code == 409
    check = check_of(app, application_id, "KE")
    assert (check.status, check.outcome, check.paused_at) == ("sent", None, None)


# --- finding 9: the assertion's jti is spent whatever the answer


def _jti(token: str) -> str:
    return str(jwt.decode(token, options={"verify_signature": False})["jti"])


@pytest.mark.parametrize(
    "bad_request",
    [
        pytest.param({"json": {"outcome": "maybe", "records": []}}, id="400"),
        pytest.param(
            {"data": "outcome=no_record", "content_type": "application/x-www-form-urlencoded"},
            id="415",
        ),
    ],
)
def test_an_assertion_used_for_a_refused_request_is_spent(
    world: World, bad_request: dict[str, Any]
) -> None:
    """The auditor sent a bad answer (400 or 415), then reused the same assertion: it worked."""
    token = world.iceland.token()
    url = f"/api/v1/agency/queries/{world.checks['IS']}/answer"
    refused = world.client.post(url, headers=world.iceland.headers(token), **bad_request)
    assert refused.status_code in (400, 415)
    assert _jti(token) in world.stored_jtis()

    status, _ = world.answer(
        world.iceland,
        world.checks["IS"],
        {"outcome": "no_record", "records": []},
        token=token,
    )
    assert status == 401
    assert world.check("IS").status == "sent"


# --- finding 11: an agency's reference and texts are one line


@pytest.mark.parametrize(
    "reference",
    ["IS-77\r\nX-Injected: yes", "IS-77\r\n", "IS-77\nsecond line", "IS\x00-77", "IS\x1b[31m-77"],
)
def test_a_reference_with_control_characters_is_refused(world: World, reference: str) -> None:
    before = world.audit_count()
    status, error = world.answer(
        world.iceland,
        world.checks["IS"],
        {"outcome": "no_record", "records": [], "reference": reference},
    )
    assert status == 400, error
    assert "reference" in error["error"]["fields"]
    check = world.check("IS")
    assert (check.status, check.reference) == ("sent", None)
    assert world.audit_count() == before


def test_a_record_with_a_line_break_in_a_field_is_refused(world: World) -> None:
    record = {**RECORDS[0], "court": "Reykjavik\r\nDistrict Court"}
    status, error = world.answer(
        world.iceland,
        world.checks["IS"],
        {"outcome": "record_found", "records": [record]},
    )
    assert status == 400, error
    assert "records.0.court" in error["error"]["fields"]
    assert world.check("IS").status == "sent"
