"""The verification lane (certificate/verify/lane.py): the view's answers, without the view.

Every request below is sent twice: to ``/api/v1/verify``, which the lane
answers, and to ``/api/v1/verify?via=app``, which it hands to the app (a
query string is never the lane's), so the view answers. The two must be the
same, header for header, but for ``Vary``: the app's answers all say
``Vary: Cookie`` because Flask-Login reads the session after every request,
while a verification depends on no cookie; the lane says ``Accept-Language``
only. A spy on the view says which of them ran.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from certificate.db import db
from certificate.issuance.models import CertificateVerification
from tests.conftest import issue_certificate, logged

VIEW = "verify_api.verify"
#: Differ from one answer to the next whatever answered them; ``Vary`` is compared apart.
_VOLATILE = {"Date", "Content-Length", "Vary"}


@pytest.fixture
def view_calls(app: Flask) -> list[str]:
    """Each request the view itself answered, by path."""
    calls: list[str] = []
    view = app.view_functions[VIEW]

    def spy(*args: Any, **kwargs: Any) -> Any:
        from flask import request

        calls.append(request.full_path)
        return view(*args, **kwargs)

    app.view_functions[VIEW] = spy
    return calls


@pytest.fixture
def issued(app: Flask, client: FlaskClient, auth: dict[str, str]) -> dict[str, str]:
    certificate = issue_certificate(app, client, auth, "Lanewood")
    return {"id": certificate["id"], "token": certificate["token"]}


def _both(client: FlaskClient, **request: Any) -> tuple[TestResponse, TestResponse]:
    return (
        client.post("/api/v1/verify", **request),
        client.post("/api/v1/verify?via=app", **request),
    )


def _headers(response: TestResponse) -> dict[str, str]:
    return {name: value for name, value in response.headers if name not in _VOLATILE}


def test_the_lane_answers_every_verification_as_the_view_does(
    client: FlaskClient, issued: dict[str, str], view_calls: list[str]
) -> None:
    asked: list[dict[str, Any]] = [
        {"json": {"token": issued["token"]}},
        {"json": {"token": f"  {issued['token']}\n", "organisation": "Save the Children"}},
        {"json": {"certificate_id": issued["id"], "date_of_birth": "1990-04-17"}},
        {"json": {"certificate_id": issued["id"].lower(), "date_of_birth": "1990-04-17"}},
        {"json": {"certificate_id": issued["id"], "date_of_birth": "1990-04-18"}},
        {"json": {"token": issued["token"][:-4] + "AAAA"}},
        {"json": {"token": "not.a.token"}},
        {"json": {"token": issued["token"]}, "headers": {"Accept-Language": "ar, fr;q=0.5"}},
        {"json": {"token": issued["token"]}, "headers": {"Accept-Language": "es-MX"}},
        {
            "data": f'{{"token": "{issued["token"]}"}}',
            "content_type": "application/json; charset=utf-8",
        },
    ]
    statuses = []
    for request in asked:
        lane, view = _both(client, **request)
        assert lane.status_code == view.status_code == 200
        assert lane.data == view.data, request
        assert _headers(lane) == _headers(view), request
        assert lane.headers["Vary"] == "Accept-Language"
        assert "Accept-Language" in view.headers["Vary"]
        statuses.append(lane.get_json()["status"])
    assert statuses == ["valid"] * 4 + ["unknown", "invalid", "invalid"] + ["valid"] * 3
    assert view_calls == ["/api/v1/verify?via=app"] * len(asked)  # the lane answered the rest


def test_the_lane_answers_in_the_language_asked(
    client: FlaskClient, issued: dict[str, str]
) -> None:
    french = client.post(
        "/api/v1/verify", json={"token": issued["token"]}, headers={"Accept-Language": "fr-CA"}
    ).get_json()
    english = client.post("/api/v1/verify", json={"token": issued["token"]}).get_json()
    assert french["summary_text"] != english["summary_text"]
    assert "pays" in french["summary_text"]


def test_what_the_lane_does_not_take_the_app_answers(
    client: FlaskClient, issued: dict[str, str], view_calls: list[str]
) -> None:
    refused = [
        ({"json": {}}, 400, "body"),
        ({"json": {"certificate_id": issued["id"]}}, 400, "date_of_birth"),
        ({"json": {"token": 12}}, 400, "token"),
        ({"json": ["token"]}, 400, "body"),
        ({"json": {"token": "a\u0000b"}}, 400, "token"),
        ({"data": "{not json", "content_type": "application/json"}, 400, None),
        ({"data": "null", "content_type": "application/json"}, 400, None),
        ({"data": "[" * 40 + "]" * 40, "content_type": "application/json"}, 400, "body"),
        ({"data": issued["token"], "content_type": "text/plain"}, 415, None),
    ]
    for request, status, field in refused:
        lane, view = _both(client, **request)
        assert lane.status_code == view.status_code == status, request
        assert lane.get_json() == view.get_json()
        if field is not None:
            assert field in lane.get_json()["error"]["fields"], request
    # every one of them reached the view, through the lane or not
    assert len(view_calls) == 2 * len(refused)
    assert client.get("/api/v1/verify").status_code == 405


def test_a_client_over_its_budget_gets_the_views_429(
    build_app: Callable[..., Flask], issued: dict[str, str]
) -> None:
    app = build_app(VERIFY_RATE_LIMIT="2/minute", RATELIMIT_ENABLED=True)
    client = app.test_client()
    answers = [client.post("/api/v1/verify", json={"token": issued["token"]}) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert answers[2].get_json()["error"]["code"] == "rate_limited"
    assert int(answers[2].headers["Retry-After"]) >= 1


def test_the_lane_logs_each_answer_and_queues_the_holders_history(
    app: Flask,
    client: FlaskClient,
    issued: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    with logged(caplog, "ipc.request"):
        answer = client.post("/api/v1/verify", json={"token": issued["token"]})
    assert answer.status_code == 200
    lines = {(r.method, r.route, r.status) for r in caplog.records if r.name == "ipc.request"}
    assert lines == {("POST", "/api/v1/verify", 200)}
    runtime = app.extensions["ipc"]
    runtime.verifier.history.flush()
    with app.app_context():
        rows = db.session.query(CertificateVerification).filter_by(certificate_id=issued["id"])
        assert [(row.method, row.result) for row in rows] == [("token", "valid")]
