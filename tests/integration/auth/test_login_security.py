"""Log-in as an agency's auditor would test it: second factor, throttling, equal answers,
session renewal, timeouts, and log-out or disabling ending every session and token."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from certificate.auth import service as auth_service
from certificate.auth.models import ApiToken, User
from certificate.auth.service import LOCK_AFTER_FAILURES, create_user
from certificate.db import db, utcnow
from tests.conftest import signup_and_token, web_login

PASSWORD = "a long enough password"


def _user(app: Flask, email: str, role: str = "applicant", country: str | None = None) -> None:
    with app.app_context():
        create_user(
            db.session, email=email, password=PASSWORD, name=email, role=role, country=country
        )
        db.session.commit()


def _stored(app: Flask, email: str) -> User:
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == email)).one()
        db.session.expunge(user)
        return user


@pytest.mark.parametrize(("role", "country"), [("agency-officer", "KE"), ("admin", None)])
def test_officers_and_admins_need_a_second_factor(
    app: Flask, role: str, country: str | None
) -> None:
    _user(app, "staff@example.org", role, country)
    client = app.test_client()
    first = client.post("/login", data={"email": "staff@example.org", "password": PASSWORD})
    assert first.headers["Location"] == "/login/code"
    assert client.get("/portal" if country else "/admin/checks").status_code == 302  # not yet in
    page = client.get("/login/code").get_data(as_text=True)
    assert "data-totp-secret" in page  # first log-in: enrolment
    wrong = client.post("/login/code", data={"code": "000000"})
    assert wrong.status_code == 400
    assert client.get("/portal" if country else "/admin/checks").status_code == 302
    assert web_login(app, app.test_client(), "staff@example.org", PASSWORD).status_code == 303
    assert _stored(app, "staff@example.org").totp_secret is not None


def test_a_code_is_never_accepted_twice(app: Flask) -> None:
    _user(app, "admin@example.org", "admin")
    web_login(app, app.test_client(), "admin@example.org", PASSWORD)
    secret = _stored(app, "admin@example.org").totp_secret
    assert secret is not None
    code = pyotp.TOTP(secret).now()
    client = app.test_client()
    client.post("/login", data={"email": "admin@example.org", "password": PASSWORD})
    ok = client.post("/login/code", data={"code": code})
    again = app.test_client()
    again.post("/login", data={"email": "admin@example.org", "password": PASSWORD})
    replay = again.post("/login/code", data={"code": code})
    assert ok.status_code == 303 or replay.status_code == 400  # one of the two at most
    assert not (ok.status_code == 303 and replay.status_code == 303)


def test_api_tokens_for_staff_need_the_code_too(app: Flask, client: FlaskClient) -> None:
    _user(app, "admin@example.org", "admin")
    web_login(app, app.test_client(), "admin@example.org", PASSWORD)
    refused = client.post(
        "/api/v1/tokens", json={"email": "admin@example.org", "password": PASSWORD}
    )
    assert refused.status_code == 401
    assert "code" in refused.get_json()["error"]["fields"]
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == "admin@example.org")).one()
        user.totp_last_step = None
        db.session.commit()
    secret = _stored(app, "admin@example.org").totp_secret
    assert secret is not None
    granted = client.post(
        "/api/v1/tokens",
        json={"email": "admin@example.org", "password": PASSWORD, "code": pyotp.TOTP(secret).now()},
    )
    assert granted.status_code == 200


def test_repeated_failures_lock_the_account_with_the_same_answer(
    app: Flask, client: FlaskClient
) -> None:
    _user(app, "ada@example.org")
    for _ in range(LOCK_AFTER_FAILURES):
        client.post("/api/v1/tokens", json={"email": "ada@example.org", "password": "wrong!"})
    locked = client.post("/api/v1/tokens", json={"email": "ada@example.org", "password": PASSWORD})
    unknown = client.post(
        "/api/v1/tokens", json={"email": "nobody@example.org", "password": PASSWORD}
    )
    assert locked.status_code == unknown.status_code == 401
    assert locked.get_json() == unknown.get_json()
    page = client.post("/login", data={"email": "ada@example.org", "password": PASSWORD})
    assert page.status_code == 400
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == "ada@example.org")).one()
        user.locked_until = utcnow() - timedelta(seconds=1)  # the lock-out has passed
        db.session.commit()
    assert (
        client.post(
            "/api/v1/tokens", json={"email": "ada@example.org", "password": PASSWORD}
        ).status_code
        == 200
    )


def test_log_in_is_throttled_per_address(app_config: dict[str, Any], make_app: Any) -> None:
    app_config.update(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3/minute")
    app = make_app(app_config)
    with app.app_context():
        db.create_all()
    client = app.test_client()
    answers = [
        client.post("/login", data={"email": f"u{i}@example.org", "password": "x"})
        for i in range(4)
    ]
    assert [a.status_code for a in answers] == [400, 400, 400, 429]
    assert "Retry-After" in answers[-1].headers


def test_unknown_and_known_accounts_do_the_same_work(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _user(app, "ada@example.org")
    calls: list[str] = []
    real = auth_service._hasher

    class Spy:
        def verify(self, hash_: str, password: str) -> bool:
            calls.append(hash_[:9])
            return real.verify(hash_, password)

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

    monkeypatch.setattr(auth_service, "_hasher", Spy())
    known = client.post("/api/v1/tokens", json={"email": "ada@example.org", "password": "no"})
    unknown = client.post("/api/v1/tokens", json={"email": "eve@example.org", "password": "no"})
    assert known.get_json() == unknown.get_json()
    assert calls == ["$argon2id", "$argon2id"]  # one Argon2id verification each


def test_the_session_is_renewed_at_log_in(app: Flask, client: FlaskClient) -> None:
    _user(app, "ada@example.org")
    with client.session_transaction() as planted:
        planted["planted"] = "by an attacker"
    client.post("/login", data={"email": "ada@example.org", "password": PASSWORD})
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"]


@pytest.mark.parametrize("key", ["seen_at", "login_at"])
def test_idle_and_absolute_timeouts_end_the_session(
    app: Flask, client: FlaskClient, key: str
) -> None:
    _user(app, "ada@example.org")
    client.post("/login", data={"email": "ada@example.org", "password": PASSWORD})
    assert client.get("/applications").status_code == 200
    with client.session_transaction() as session:
        session[key] = int(session[key]) - 13 * 3600  # beyond both limits
    ended = client.get("/applications")
    assert ended.status_code == 302
    assert ended.headers["Location"].startswith("/login")
    assert client.get("/applications").status_code == 302


def test_log_out_ends_every_session_and_api_token(app: Flask, client: FlaskClient) -> None:
    headers = signup_and_token(client, "ada@example.org")
    laptop, phone = app.test_client(), app.test_client()
    for device in (laptop, phone):
        device.post(
            "/login", data={"email": "ada@example.org", "password": "correct horse battery"}
        )
        assert device.get("/applications").status_code == 200
    laptop.post("/logout")
    assert phone.get("/applications").status_code == 302
    assert client.get("/api/v1/applications", headers=headers).status_code == 401
    with app.app_context():
        assert db.session.scalars(select(ApiToken)).all() == []


def test_disabling_an_account_ends_its_sessions_and_tokens(app: Flask, client: FlaskClient) -> None:
    headers = signup_and_token(client, "ada@example.org")
    browser = app.test_client()
    browser.post("/login", data={"email": "ada@example.org", "password": "correct horse battery"})
    result = app.test_cli_runner().invoke(args=["users", "disable", "ada@example.org"])
    assert result.exit_code == 0, result.output
    assert browser.get("/applications").status_code == 302
    assert client.get("/api/v1/applications", headers=headers).status_code == 401
    again = client.post(
        "/api/v1/tokens", json={"email": "ada@example.org", "password": "correct horse battery"}
    )
    assert again.status_code == 401
