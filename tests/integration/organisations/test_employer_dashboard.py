"""The employer's pages: requests and answers, keys and webhooks, and CSV batch verification."""

from __future__ import annotations

import base64
import csv
import io
import re
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from certificate.db import db
from certificate.notifications.models import OutboxMessage
from certificate.organisations.models import ApiKey, CandidateRequest, Webhook
from certificate.runtime import runtime
from certificate.verify.service import verification_history
from tests.conftest import application_body, drain, signup_and_token, web_login
from tests.integration.organisations.test_organisations import PASSWORD, _member, _organisation


@dataclass
class Employer:
    organisation: str
    client: FlaskClient


def _employer(app: Flask, email: str, name: str) -> Employer:
    organisation = _organisation(app, name)
    _member(app, email, "employer", organisation)
    client = app.test_client()
    response = web_login(app, client, email, PASSWORD)
    assert response.status_code == 303, response.get_data(as_text=True)
    assert response.headers["Location"] == "/employer"
    return Employer(organisation, client)


@pytest.fixture
def employer(app: Flask) -> Employer:
    return _employer(app, "hr@stc.example", "Save the Children Kenya")


def _certificate(
    app: Flask, family_name: str = "Okafor"
) -> tuple[FlaskClient, dict[str, str], dict[str, Any]]:
    """A candidate with an issued certificate: (client, bearer headers, application)."""
    client = app.test_client()
    headers = signup_and_token(client, f"{family_name.lower()}@example.org")
    filed = client.post("/api/v1/applications", json=application_body(family_name), headers=headers)
    assert filed.status_code == 201, filed.get_json()
    drain(app)
    application = client.get(f"/api/v1/applications/{filed.get_json()['id']}", headers=headers)
    assert application.get_json()["certificate"] is not None
    return client, headers, application.get_json()


def _ask(employer: Employer, email: str, purpose: str = "Teacher, Nairobi") -> str:
    response = employer.client.post(
        "/employer/requests", data={"email": email, "purpose": purpose, "language": "fr"}
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"]


def _request_id(app: Flask, email: str) -> str:
    with app.app_context():  # the address is stored encrypted: compare after reading
        (found,) = [r.id for r in db.session.scalars(select(CandidateRequest)) if r.email == email]
        return found


def _history(app: Flask, certificate_id: str) -> list[tuple[str, str, str | None]]:
    with app.app_context():
        rows = verification_history(db.session, runtime().verifier.history, [certificate_id])
        db.session.rollback()
        return [(r.method, r.result, r.organisation) for r in rows]


def test_the_dashboard_asks_shows_the_answer_in_words_and_nothing_after_stop(
    app: Flask, employer: Employer
) -> None:
    assert _ask(employer, "Record@Example.org") == "/employer"
    with app.app_context():
        mail = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.topic == "candidate_request")
        ).one()
        assert (mail.recipient, mail.language) == ("record@example.org", "fr")
        assert "Teacher, Nairobi" in (mail.body or "")
    page = employer.client.get("/employer").get_data(as_text=True)
    assert "record@example.org" in page
    assert "Sent; not shared yet" in page

    candidate, headers, application = _certificate(app, "Recordson")
    request_id = _request_id(app, "record@example.org")
    shared = candidate.post(
        f"/api/v1/requests/{request_id}/share",
        json={"application_id": application["id"]},
        headers=headers,
    )
    assert shared.status_code == 200, shared.get_json()

    page = employer.client.get("/employer").get_data(as_text=True)
    number = application["certificate"]["id"]
    assert number in page
    row = page[page.index(f'data-request="{request_id}"') :]
    row = row[: row.index("</tr>")]
    # a genuine certificate with a record leads with the record, never as a clean one
    assert "Record found" in row
    assert "No record in" not in row
    assert 'class="result result-record"' in row
    assert "Genuine and in force." in row
    assert "Expires on" in row
    assert _history(app, number) == [("token", "valid", "Save the Children Kenya")]

    stopped = candidate.delete(f"/api/v1/requests/{request_id}/share", headers=headers)
    assert stopped.status_code == 200
    page = employer.client.get("/employer").get_data(as_text=True)
    assert number not in page
    assert "Record found" not in page
    assert "The candidate stopped sharing" in page


def test_a_bad_request_form_is_a_400_naming_the_field_and_sends_nothing(
    app: Flask, employer: Employer
) -> None:
    response = employer.client.post(
        "/employer/requests", data={"email": "not-an-address", "purpose": "", "language": "en"}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'href="#email"' in page
    assert 'href="#purpose"' in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CandidateRequest)) == 0
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_an_employer_sees_only_their_own_organisations_requests_keys_and_webhooks(
    app: Flask, employer: Employer
) -> None:
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    other = _employer(app, "hr@other.example", "Other Charity")
    _ask(employer, "mine@example.org")
    _ask(other, "theirs@example.org")
    assert "theirs@example.org" not in employer.client.get("/employer").get_data(as_text=True)
    assert "mine@example.org" not in other.client.get("/employer").get_data(as_text=True)

    created = employer.client.post("/employer/api-keys", data={"name": "Payroll bridge"})
    assert created.status_code == 201
    key = re.search(r"data-new-key>(ipc_org_[^<]+)<", created.get_data(as_text=True))
    assert key is not None
    hook = employer.client.post(
        "/employer/webhooks",
        data={"url": "http://127.0.0.1:9/hook", "events": ["certificate.revoked"]},
    )
    assert hook.status_code == 201, hook.get_data(as_text=True)
    with app.app_context():
        key_id = db.session.scalars(select(ApiKey.id)).one()
        hook_id = db.session.scalars(select(Webhook.id)).one()

    assert other.client.post(f"/employer/api-keys/{key_id}/revoke").status_code == 404
    assert other.client.post(f"/employer/webhooks/{hook_id}/disable").status_code == 404
    assert "Payroll bridge" not in other.client.get("/employer/access").get_data(as_text=True)
    assert "127.0.0.1" not in other.client.get("/employer/access").get_data(as_text=True)
    listed = app.test_client().get(
        "/api/v1/requests", headers={"Authorization": f"Bearer {key.group(1)}"}
    )
    assert [r["email"] for r in listed.get_json()["requests"]] == ["mine@example.org"]
    with app.app_context():
        assert db.session.get(ApiKey, key_id).revoked_at is None  # type: ignore[union-attr]
        assert db.session.get(Webhook, hook_id).disabled_at is None  # type: ignore[union-attr]


def test_a_key_made_on_the_page_is_shown_once_works_and_stops_when_revoked(
    app: Flask, employer: Employer
) -> None:
    created = employer.client.post("/employer/api-keys", data={"name": "HR system"})
    assert created.status_code == 201
    assert created.headers["Cache-Control"] == "no-store"
    key = re.search(r"data-new-key>(ipc_org_[^<]+)<", created.get_data(as_text=True))
    assert key is not None
    listing = employer.client.get("/employer/access").get_data(as_text=True)
    assert "HR system" in listing
    assert key.group(1) not in listing
    bearer = {"Authorization": f"Bearer {key.group(1)}"}
    api = app.test_client()
    assert api.get("/api/v1/requests", headers=bearer).status_code == 200
    with app.app_context():
        key_id = db.session.scalars(select(ApiKey.id)).one()
    revoked = employer.client.post(f"/employer/api-keys/{key_id}/revoke")
    assert revoked.status_code == 303
    assert api.get("/api/v1/requests", headers=bearer).status_code == 401


def test_webhooks_on_the_page_refuse_private_urls_show_the_secret_once_and_stop(
    app: Flask, employer: Employer
) -> None:
    refused = employer.client.post(
        "/employer/webhooks", data={"url": "https://127.0.0.1/hook", "events": ["request.shared"]}
    )
    assert refused.status_code == 400
    assert "points at a private, loopback or reserved address" in refused.get_data(as_text=True)
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    no_events = employer.client.post("/employer/webhooks", data={"url": "https://127.0.0.1/h"})
    assert no_events.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Webhook)) == 0
    created = employer.client.post(
        "/employer/webhooks",
        data={"url": "https://127.0.0.1/hook", "events": ["request.shared", "certificate.expired"]},
    )
    assert created.status_code == 201
    secret = re.search(r"data-new-secret>(whsec_[^<]+)<", created.get_data(as_text=True))
    assert secret is not None
    with app.app_context():
        hook = db.session.scalars(select(Webhook)).one()
        assert hook.secret == secret.group(1)
        assert hook.events == ["certificate.expired", "request.shared"]
        hook_id = hook.id
    listing = employer.client.get("/employer/access").get_data(as_text=True)
    assert "https://127.0.0.1/hook" in listing
    assert secret.group(1) not in listing
    assert employer.client.post(f"/employer/webhooks/{hook_id}/disable").status_code == 303
    assert "https://127.0.0.1/hook" not in employer.client.get("/employer/access").get_data(
        as_text=True
    )
    with app.app_context():
        assert db.session.get(Webhook, hook_id).wants("request.shared") is False  # type: ignore[union-attr]


# --- CSV batch verification


def _upload(client: FlaskClient, content: bytes, path: str = "/employer/verify") -> Any:
    # the body built here, in memory: the test client spools a large one to a file it never closes
    boundary = "csv-upload-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="list.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def test_a_csv_is_verified_row_by_row_recorded_under_the_organisation_and_downloadable(
    app: Flask, employer: Employer
) -> None:
    _client, _headers, clean = _certificate(app, "Okafor")
    _client, _headers, found = _certificate(app, "Recordson")
    token = clean["certificate"]["verify_url"].split("#", 1)[1]
    content = (
        "certificate_id;date_of_birth;token\r\n"
        f"{clean['certificate']['id']};1990-04-17;\r\n"
        f"{found['certificate']['id'].lower()};1990-04-17;\r\n"
        f"{found['certificate']['id']};1991-01-01;\r\n"
        "\r\n"
        f";;{token}\r\n"
    ).encode()
    response = _upload(employer.client, "\ufeff".encode() + content)
    assert response.status_code == 200, response.get_data(as_text=True)
    page = response.get_data(as_text=True)
    statuses = re.findall(r'data-row="(\d+)" data-status="(\w+)"', page)
    assert statuses == [("2", "valid"), ("3", "valid"), ("4", "unknown"), ("6", "valid")]
    found_row = page[page.index('data-row="3"') :]
    found_row = found_row[: found_row.index("</tr>")]
    assert "Record found" in found_row
    assert "result-record" in found_row

    link = re.search(r'href="data:text/csv;charset=utf-8;base64,([^"]+)" download', page)
    assert link is not None
    rows = list(csv.DictReader(io.StringIO(base64.b64decode(link.group(1)).decode())))
    assert [(r["row"], r["status"], r["content"]) for r in rows] == [
        ("2", "valid", "no_record"),
        ("3", "valid", "record_found"),
        ("4", "unknown", ""),
        ("6", "valid", "no_record"),
    ]
    assert int(rows[1]["record_found"]) >= 1
    assert rows[1]["summary"].startswith("Records found")
    assert rows[1]["certificate_id"] == found["certificate"]["id"]

    organisation = "Save the Children Kenya"
    assert _history(app, found["certificate"]["id"]) == [("number", "valid", organisation)]
    assert sorted(_history(app, clean["certificate"]["id"])) == [
        ("number", "valid", organisation),
        ("token", "valid", organisation),
    ]


def _problem(response: Any) -> str:
    match = re.search(r'<p id="file-problem">([^<]*)</p>', response.get_data(as_text=True))
    assert match is not None, response.get_data(as_text=True)
    return match.group(1).replace("&#39;", "'")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "The file is empty."),
        (b"number,birth\r\nX,1990-01-01\r\n", "column this page does not read: number"),
        (b"certificate_id\r\nX\r\n", "certificate_id and date_of_birth, or token"),
        (
            b"certificate_id,date_of_birth\r\nAAAA-BBBB,1990-01-01\r\nCCCC-DDDD,17/04/1990\r\n",
            "Row 3, column date_of_birth: must be a date written YYYY-MM-DD.",
        ),
        (
            b"certificate_id,date_of_birth\r\n,1990-01-01\r\n",
            "Row 2, column certificate_id: is missing or too long.",
        ),
        (b"certificate_id,date_of_birth\r\nA,1990-01-01,extra\r\n", "Row 2 has more values"),
        (b"certificate_id,date_of_birth\r\n\xff\xfe,1990\r\n", "not UTF-8"),
        (b"certificate_id,date_of_birth\r\n", "no rows to verify"),
        (
            b"certificate_id,date_of_birth\r\n" + b"AAAA-BBBB,1990-01-01\r\n" * 1001,
            "more than 1000 rows",
        ),
        (b"token\r\n" + b"x" * (4 * 1024 * 1024), "larger than 4 MB"),
        (b'certificate_id,date_of_birth\r\n"AAAA,1990-01-01\r\n', "cannot be read as CSV"),
    ],
)
def test_a_bad_csv_is_a_400_naming_the_row_and_column_and_verifies_nothing(
    app: Flask, employer: Employer, content: bytes, expected: str
) -> None:
    _client, _headers, application = _certificate(app)
    number = application["certificate"]["id"]
    if b"AAAA-BBBB,1990-01-01" in content:  # the first rows are real, so nothing may be recorded
        content = content.replace(b"AAAA-BBBB", number.encode())
    response = _upload(employer.client, content)
    assert response.status_code == 400
    assert expected in _problem(response)
    assert _history(app, number) == []


def test_no_file_is_a_400(employer: Employer) -> None:
    response = employer.client.post("/employer/verify", data={})
    assert response.status_code == 400
    assert "Choose a CSV file" in _problem(response)


def test_the_csv_page_speaks_the_page_language(app: Flask, employer: Employer) -> None:
    response = _upload(
        employer.client,
        b"certificate_id,date_of_birth\r\nA,17/04/1990\r\n",
        "/employer/verify?lang=fr",
    )
    assert response.status_code == 400
    problem = _problem(response)
    assert "Row 2" not in problem
    assert "2" in problem
    assert "date_of_birth" in problem
