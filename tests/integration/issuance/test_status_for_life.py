"""Status for life: key rotation, revocation (CLI and admin page), expiry and supersession.

Each status must be answered the same way everywhere: the API by token, by
typed number and by upload, and the /v page (typed number and upload).
An admin's revocation on the page takes effect once a second admin approves it
(the operator command revokes at once).
"""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta
from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from certificate.admin.models import PendingAction
from certificate.db import db, utcnow
from certificate.issuance.models import Certificate
from tests.conftest import application_body, drain, web_login

DOB = "1990-04-17"


@pytest.fixture
def issued(app: Flask, client: FlaskClient, auth: dict[str, str]) -> dict[str, Any]:
    created = client.post(
        "/api/v1/applications", json=application_body("LIFELONG"), headers=auth
    ).get_json()
    drain(app)
    return _current(client, auth, created["id"])


def _current(client: FlaskClient, auth: dict[str, str], application_id: str) -> dict[str, Any]:
    body = client.get(f"/api/v1/applications/{application_id}", headers=auth).get_json()
    certificate = dict(body["certificate"])
    certificate["application_id"] = application_id
    certificate["token"] = certificate["verify_url"].split("#", 1)[1]
    certificate["pdf"] = client.get(certificate["pdf_url"], headers=auth).data
    return certificate


def _answers(client: FlaskClient, certificate: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The answer of every way in: API token, API number, API upload, page number, page upload."""
    api_token = client.post("/api/v1/verify", json={"token": certificate["token"]}).get_json()
    api_number = client.post(
        "/api/v1/verify", json={"certificate_id": certificate["id"], "date_of_birth": DOB}
    ).get_json()
    api_upload = client.post(
        "/api/v1/verify",
        data={"file": (io.BytesIO(certificate["pdf"]), "c.pdf")},
        content_type="multipart/form-data",
    ).get_json()
    page_number = client.post(
        "/v", data={"certificate_number": certificate["id"], "date_of_birth": DOB}
    )
    page_upload = client.post(
        "/v/upload",
        data={"file": (io.BytesIO(certificate["pdf"]), "c.pdf")},
        content_type="multipart/form-data",
    )
    return {
        "api_token": api_token,
        "api_number": api_number,
        "api_upload": api_upload,
        "page_number": {"status": _page_status(page_number.get_data(as_text=True))},
        "page_upload": {"status": _page_status(page_upload.get_data(as_text=True))},
    }


def _page_status(html: str) -> str:
    match = re.search(r'class="result result-([a-z]+)"', html)
    assert match, html
    return match.group(1)


def _assert_everywhere(client: FlaskClient, certificate: dict[str, Any], status: str) -> None:
    answers = _answers(client, certificate)
    assert {way: answer["status"] for way, answer in answers.items()} == dict.fromkeys(
        answers, status
    )
    for way in ("api_token", "api_number", "api_upload"):
        assert answers[way]["valid"] is (status == "valid")
        assert answers[way]["certificate"]["jti"] == certificate["id"]


def test_a_fresh_certificate_is_valid_everywhere(
    client: FlaskClient, issued: dict[str, Any]
) -> None:
    _assert_everywhere(client, issued, "valid")


def test_a_certificate_signed_before_keys_rotate_still_verifies(
    app: Flask,
    client: FlaskClient,
    runner: FlaskCliRunner,
    auth: dict[str, str],
    issued: dict[str, Any],
) -> None:
    old_kid = jwt.get_unverified_header(issued["token"])["kid"]
    rotated = runner.invoke(args=["keys", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    new_kid = rotated.output.strip()
    _assert_everywhere(client, issued, "valid")
    keys = {key["kid"]: key for key in client.get("/.well-known/jwks.json").get_json()["keys"]}
    assert keys[old_kid]["retired_at"]
    assert "retired_at" not in keys[new_kid]
    # the next certificate is signed with the new key
    other = client.post(
        "/api/v1/applications", json=application_body("AFTERWARDS"), headers=auth
    ).get_json()
    drain(app)
    after = _current(client, auth, other["id"])
    assert jwt.get_unverified_header(after["token"])["kid"] == new_kid
    _assert_everywhere(client, after, "valid")


def test_revoked_answers_revoked_everywhere(
    client: FlaskClient, runner: FlaskCliRunner, issued: dict[str, Any]
) -> None:
    result = runner.invoke(args=["certificates", "revoke", "--reason", "Fraud", issued["id"]])
    assert result.exit_code == 0, result.output
    _assert_everywhere(client, issued, "revoked")


def test_expired_answers_expired_everywhere(
    app: Flask, client: FlaskClient, issued: dict[str, Any]
) -> None:
    with app.app_context():
        row = db.session.get(Certificate, issued["id"])
        assert row is not None
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    _assert_everywhere(client, issued, "expired")


def test_reissue_supersedes_and_names_nothing_of_the_new_one(
    app: Flask,
    client: FlaskClient,
    runner: FlaskCliRunner,
    auth: dict[str, str],
    issued: dict[str, Any],
) -> None:
    result = runner.invoke(
        args=["certificates", "reissue", issued["id"], "--reason", "Name corrected"]
    )
    assert result.exit_code == 0, result.output
    new_id = result.output.strip().splitlines()[-1]
    assert new_id != issued["id"]

    _assert_everywhere(client, issued, "superseded")
    for answer in _answers(client, issued).values():
        assert new_id not in json.dumps(answer)
    page = client.post("/v", data={"certificate_number": issued["id"], "date_of_birth": DOB})
    assert new_id not in page.get_data(as_text=True)

    current = _current(client, auth, issued["application_id"])
    assert current["id"] == new_id
    assert current["pdf"] != issued["pdf"]
    _assert_everywhere(client, current, "valid")
    with app.app_context():
        rows = {
            c.id: c
            for c in db.session.query(Certificate).filter_by(
                application_id=issued["application_id"]
            )
        }
        assert (rows[issued["id"]].generation, rows[new_id].generation) == (1, 2)

    again = runner.invoke(args=["certificates", "reissue", issued["id"], "--reason", "x"])
    assert again.exit_code != 0
    assert "superseded" in again.output
    missing = runner.invoke(args=["certificates", "reissue", "0" * 28, "--reason", "x"])
    assert "no certificate" in missing.output
    blank = runner.invoke(args=["certificates", "reissue", new_id, "--reason", "  "])
    assert blank.exit_code != 0


def test_a_revoked_certificate_cannot_be_reissued(
    runner: FlaskCliRunner, issued: dict[str, Any]
) -> None:
    runner.invoke(args=["certificates", "revoke", "--reason", "Fraud", issued["id"]])
    result = runner.invoke(args=["certificates", "reissue", issued["id"], "--reason", "x"])
    assert result.exit_code != 0
    assert "revoked" in result.output


# --- the admin page ------------------------------------------------------------


def _login(client: FlaskClient, runner: FlaskCliRunner, role: str, email: str) -> None:
    password = "a long admin password"
    created = runner.invoke(
        args=["users", "create", "--email", email, "--password", password, "--role", role]
    )
    assert created.exit_code == 0, created.output
    response = web_login(client.application, client, email, password)
    assert response.status_code in (302, 303)


def test_the_admin_page_finds_and_revokes_with_a_reason(
    app: Flask, runner: FlaskCliRunner, issued: dict[str, Any]
) -> None:
    admin = app.test_client()
    _login(admin, runner, "admin", "root@example.org")
    listing = admin.get("/admin/certificates")
    assert listing.status_code == 200
    assert issued["id"] in listing.get_data(as_text=True)
    assert "LIFELONG" not in listing.get_data(as_text=True)  # no holder identity

    found = admin.post("/admin/certificates", data={"number": issued["id"].lower()})
    assert issued["id"] in found.get_data(as_text=True)
    nothing = admin.post("/admin/certificates", data={"number": "0" * 28})
    assert "No certificate has this number" in nothing.get_data(as_text=True)

    form = admin.get(f"/admin/certificates/{issued['id']}/revoke")
    assert 'name="reason"' in form.get_data(as_text=True)
    no_reason = admin.post(f"/admin/certificates/{issued['id']}/revoke", data={"reason": " "})
    assert no_reason.status_code == 400
    done = admin.post(
        f"/admin/certificates/{issued['id']}/revoke", data={"reason": "Obtained by fraud"}
    )
    assert done.status_code == 302
    anonymous = app.test_client()
    _assert_everywhere(anonymous, issued, "valid")  # until a second admin approves

    second = app.test_client()
    _login(second, runner, "admin", "second.root@example.org")
    with app.app_context():
        action = db.session.query(PendingAction).filter_by(subject_id=issued["id"]).one()
        action_id = action.id
    assert second.post(f"/admin/approvals/{action_id}/approve").status_code == 303
    _assert_everywhere(anonymous, issued, "revoked")
    with app.app_context():
        row = db.session.get(Certificate, issued["id"])
        assert row is not None
        assert row.revocation_reason == "Obtained by fraud"
    assert "Obtained by fraud" not in json.dumps(
        anonymous.post("/api/v1/verify", json={"token": issued["token"]}).get_json()
    )


def test_the_admin_page_is_for_admins_only(
    app: Flask, runner: FlaskCliRunner, issued: dict[str, Any]
) -> None:
    anonymous = app.test_client()
    assert anonymous.get("/admin/certificates").status_code == 302
    assert (
        anonymous.post(
            f"/admin/certificates/{issued['id']}/revoke", data={"reason": "x"}
        ).status_code
        == 302
    )
    applicant = app.test_client()
    _login(applicant, runner, "applicant", "someone@example.org")
    assert applicant.get("/admin/certificates").status_code == 403
    refused = applicant.post(f"/admin/certificates/{issued['id']}/revoke", data={"reason": "x"})
    assert refused.status_code == 403
    _assert_everywhere(anonymous, issued, "valid")


def test_revoking_on_the_admin_page_needs_the_csrf_token(
    app_config: dict[str, Any], tmp_path: Any
) -> None:
    from certificate import close_app, create_app

    app_config["WTF_CSRF_ENABLED"] = True
    app = create_app(app_config)
    with app.app_context():
        db.create_all()
    try:
        runner = app.test_cli_runner()
        runner.invoke(
            args=[
                "users",
                "create",
                "--email",
                "a@example.org",
                "--role",
                "admin",
                "--password",
                "pw-long-enough-1",
            ]
        )
        client = app.test_client()
        web_login(app, client, "a@example.org", "pw-long-enough-1")
        assert client.get("/admin/certificates").status_code == 200
        forged = client.post("/admin/certificates/0000/revoke", data={"reason": "x"})
        assert forged.status_code == 400
    finally:
        with app.app_context():
            db.drop_all()
        close_app(app)


@pytest.mark.parametrize("ending", ["revoked", "expired", "superseded"])
def test_the_applicant_is_told_plainly_when_the_certificate_ends(
    app: Flask,
    client: FlaskClient,
    runner: FlaskCliRunner,
    auth: dict[str, str],
    issued: dict[str, Any],
    ending: str,
) -> None:
    """After revocation, expiry or supersession the applicant's API and pages say so, with the
    reason: no "ready", no download invitation."""
    if ending == "revoked":
        result = runner.invoke(
            args=["certificates", "revoke", "--reason", "Issued in error", issued["id"]]
        )
        assert result.exit_code == 0, result.output
    elif ending == "expired":
        with app.app_context():
            row = db.session.get(Certificate, issued["id"])
            assert row is not None
            row.expires_at = utcnow() - timedelta(seconds=1)
            db.session.commit()
    else:
        with app.app_context():
            row = db.session.get(Certificate, issued["id"])
            assert row is not None
            row.superseded_at = utcnow() - timedelta(seconds=1)
            db.session.commit()

    body = client.get(f"/api/v1/applications/{issued['application_id']}", headers=auth)
    certificate = body.get_json()["certificate"]
    assert certificate["status"] == ending
    expected_reason = "Issued in error" if ending == "revoked" else None
    assert certificate["revocation_reason"] == expected_reason

    web_login(app, client, "ada@example.org", "correct horse battery")
    page = client.get(f"/applications/{issued['application_id']}").get_data(as_text=True)
    assert "Your certificate is no longer in force" in page
    assert "Your certificate is ready" not in page
    assert "certificate.pdf" not in page
    assert "See what an employer sees" not in page
    if ending == "revoked":
        assert "Issued in error" in page
    listing = client.get("/applications").get_data(as_text=True)
    assert "Download certificate (PDF)" not in listing


def test_a_valid_certificate_is_offered_for_download(
    app: Flask, client: FlaskClient, auth: dict[str, str], issued: dict[str, Any]
) -> None:
    """The counterpart: while in force, the page and the list offer the PDF, and no reason."""
    assert issued["revocation_reason"] is None
    web_login(app, client, "ada@example.org", "correct horse battery")
    page = client.get(f"/applications/{issued['application_id']}").get_data(as_text=True)
    assert "Your certificate is ready" in page
    assert "no longer in force" not in page
    assert "Download certificate (PDF)" in client.get("/applications").get_data(as_text=True)
