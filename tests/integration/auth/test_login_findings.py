"""Audit finding 1: the second factor could be brute-forced (a right password reset the
failure count before a wrong code was counted), `/api/v1/tokens` told when a staff password
was right, sign-up told which addresses exist, and anyone could lock an officer out."""

from __future__ import annotations

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from certificate.auth.models import User
from certificate.auth.service import LOCK_AFTER_FAILURES, create_user
from certificate.db import db, utcnow
from tests.conftest import web_login

PASSWORD = "a long enough password"
OFFICER = "officer.ke@example.org"


@pytest.fixture
def officer(app: Flask) -> str:
    """An agency officer who has enrolled an authenticator; returns its TOTP secret."""
    with app.app_context():
        create_user(
            db.session,
            email=OFFICER,
            password=PASSWORD,
            name="Officer",
            role="agency-officer",
            country="KE",
        )
        db.session.commit()
    assert web_login(app, app.test_client(), OFFICER, PASSWORD).status_code == 303
    return _state(app, OFFICER).totp_secret or ""


def _state(app: Flask, email: str) -> User:
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == email)).one()
        db.session.expunge(user)
        return user


def _fresh_code(app: Flask, secret: str) -> str:
    """The current code, usable again (the test runs within one 30-second window)."""
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == OFFICER)).one()
        user.totp_last_step = None
        db.session.commit()
    return pyotp.TOTP(secret).now()


def _wrong(code: str) -> str:
    return f"{(int(code) + 500_000) % 1_000_000:06d}"


def _token(client: FlaskClient, **body: str) -> tuple[int, object]:
    response = client.post("/api/v1/tokens", json={"email": OFFICER, **body})
    return response.status_code, response.get_json()


def test_wrong_codes_after_a_right_password_lock_the_api(
    app: Flask, client: FlaskClient, officer: str
) -> None:
    """The auditor sent the right password with a guessed code, again and again."""
    for _ in range(LOCK_AFTER_FAILURES):
        status, _ = _token(client, password=PASSWORD, code=_wrong(pyotp.TOTP(officer).now()))
        assert status == 401
    assert _state(app, OFFICER).locked_until is not None
    status, _ = _token(client, password=PASSWORD, code=_fresh_code(app, officer))
    assert status == 401  # locked: even the right code is refused now


def test_wrong_codes_after_a_right_password_lock_the_web_log_in(app: Flask, officer: str) -> None:
    client = app.test_client()
    for _ in range(LOCK_AFTER_FAILURES):
        first = client.post("/login", data={"email": OFFICER, "password": PASSWORD})
        assert first.headers["Location"] == "/login/code"
        wrong = client.post("/login/code", data={"code": _wrong(pyotp.TOTP(officer).now())})
        assert wrong.status_code == 400
    assert _state(app, OFFICER).locked_until is not None
    _fresh_code(app, officer)
    assert web_login(app, app.test_client(), OFFICER, PASSWORD).status_code == 400


def test_the_tokens_answer_never_tells_that_a_password_was_right(
    client: FlaskClient, officer: str
) -> None:
    wrong_password = _token(client, password="not the password")
    right_password_no_code = _token(client, password=PASSWORD)
    right_password_wrong_code = _token(
        client, password=PASSWORD, code=_wrong(pyotp.TOTP(officer).now())
    )
    unknown = client.post(
        "/api/v1/tokens", json={"email": "nobody@example.org", "password": PASSWORD}
    )
    assert wrong_password == right_password_no_code == right_password_wrong_code
    assert wrong_password == (unknown.status_code, unknown.get_json())
    assert wrong_password[0] == 401


def test_a_stranger_cannot_lock_an_officer_out(
    app: Flask, client: FlaskClient, officer: str
) -> None:
    """Wrong passwords from anyone do not lock a staff account; only wrong codes, which
    need the password first, do."""
    for _ in range(LOCK_AFTER_FAILURES * 4):
        assert _token(client, password="a stranger's guess")[0] == 401
    assert _state(app, OFFICER).locked_until is None
    status, body = _token(client, password=PASSWORD, code=_fresh_code(app, officer))
    assert status == 200, body


@pytest.mark.parametrize("taken", [OFFICER, "ada@example.org"])
def test_sign_up_does_not_tell_which_addresses_exist(
    app: Flask, client: FlaskClient, officer: str, taken: str
) -> None:
    with app.app_context():
        create_user(db.session, email="ada@example.org", password=PASSWORD, name="Ada")
        db.session.commit()
        before = db.session.scalar(select(func.count()).select_from(User))
    new = client.post(
        "/api/v1/accounts",
        json={"email": "brand.new@example.org", "password": "x" * 12, "name": "N"},
    )
    existing = client.post(
        "/api/v1/accounts", json={"email": taken.upper(), "password": "y" * 12, "name": "M"}
    )
    assert new.status_code == existing.status_code == 201
    assert set(new.get_json()) == set(existing.get_json()) == {"id", "email"}
    assert existing.get_json()["email"] == taken
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == before + 1
        owner = db.session.scalars(select(User).where(User.email == taken)).one()
        assert owner.id != existing.get_json()["id"]
        assert owner.locked_until is None or owner.locked_until < utcnow()
    page_new = client.post(
        "/signup",
        data={
            "name": "W",
            "email": "web.new@example.org",
            "password": "z" * 12,
            "confirm": "z" * 12,
        },
    )
    page_taken = client.post(
        "/signup",
        data={"name": "W", "email": taken, "password": "z" * 12, "confirm": "z" * 12},
    )
    assert (page_new.status_code, page_new.headers["Location"]) == (
        page_taken.status_code,
        page_taken.headers["Location"],
    )
