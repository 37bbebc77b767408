"""Shared fixtures: an app on a fresh database, clients, users, and inline job running."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from certificate import close_app, create_app
from certificate.auth.models import User
from certificate.db import db
from tests.databases import fresh_database

SANDBOX = "KE,TH,NG,GB,FR,ES,IN,BR,ZA,PH,CA,MA"


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """An empty database of its own for this test (SQLite, or PostgreSQL in CI)."""
    with fresh_database(tmp_path) as url:
        yield url


@pytest.fixture
def app_config(tmp_path: Path, database_url: str) -> dict[str, Any]:
    """Settings for a test app; tests may change them before ``app`` is built."""
    database = database_url
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": database,
        "SECRET_KEY": "test-secret",
        "BASE_URL": "http://ipc.test",
        "SANDBOX_COUNTRIES": SANDBOX,
        # identities are confirmed at once; tests of identity proofing set "required"
        "IDENTITY_PROOFING": "sandbox",
        "JOBS_ENABLED": False,
        "RETRY_BASE_SECONDS": 0,
        "RETRY_MAX_SECONDS": 0,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
    }


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Flask]:
    """An app with the schema created from the models."""
    application = create_app(app_config)
    with application.app_context():
        db.drop_all()
        db.create_all()
    yield application
    with application.app_context():
        db.session.remove()
        db.drop_all()
    close_app(application)


@pytest.fixture
def make_app() -> Iterator[Callable[[dict[str, Any]], Flask]]:
    """Build extra apps in a test; their database connections are closed afterwards."""
    built: list[Flask] = []

    def build(config: dict[str, Any]) -> Flask:
        application = create_app(config)
        built.append(application)
        return application

    yield build
    for application in built:
        close_app(application)


@pytest.fixture
def build_app(
    app_config: dict[str, Any], make_app: Callable[[dict[str, Any]], Flask]
) -> Callable[..., Flask]:
    """Builds an app with ``settings`` added to the test's, on a fresh schema; closed afterwards."""

    def build(**settings: Any) -> Flask:
        app_config.update(settings)
        application = make_app(app_config)
        with application.app_context():
            db.drop_all()
            db.create_all()
        return application

    return build


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """Runs operator commands against the test app."""
    return app.test_cli_runner()


def application_body(family_name: str = "Okafor", **overrides: Any) -> dict[str, Any]:
    """A valid filing, as in the contract's example."""
    body: dict[str, Any] = {
        "applicant": {
            "family_name": family_name,
            "given_names": "Ada Chioma",
            "other_names": ["Ada Mensah"],
            "date_of_birth": "1990-04-17",
            "place_of_birth": {"city": "Lagos", "country": "NG"},
            "nationalities": ["NG"],
            "identity_document": {
                "type": "passport",
                "number": "A1234567",
                "issuing_country": "NG",
                "expires": date(datetime.now(UTC).year + 5, 1, 1).isoformat(),
            },
        },
        "residences": [
            {"country": "KE", "from": "2012-09", "to": "2016-06"},
            {"country": "TH", "from": "2016-07", "to": None},
        ],
        "language": "en",
        "purpose": "Teacher at a primary school",
        "consent": True,
    }
    body.update(overrides)
    return body


def signup_and_token(client: FlaskClient, email: str = "ada@example.org") -> dict[str, str]:
    """Create an applicant through the API and return its Authorization header."""
    password = "correct horse battery"
    response = client.post(
        "/api/v1/accounts", json={"email": email, "password": password, "name": "Ada"}
    )
    assert response.status_code == 201, response.get_json()
    response = client.post("/api/v1/tokens", json={"email": email, "password": password})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


def drain(app: Flask, rounds: int = 20) -> None:
    """Run every due check and owed issuance inline, until nothing is due."""
    from certificate.jobs import run_check, sweep

    for _ in range(rounds):
        with app.app_context():
            due = sweep()
        if not due:
            return
        for check_id in due:
            with app.app_context():
                run_check(check_id)
    raise AssertionError("work still due after draining")


def issue_certificate(
    app: Flask, client: FlaskClient, auth: dict[str, str], family_name: str = "Okafor"
) -> dict[str, Any]:
    """File an application through the API, let the sandbox answer, and return the
    application's certificate as the API gives it, with its QR ``token`` added."""
    created = client.post(
        "/api/v1/applications", json=application_body(family_name), headers=auth
    ).get_json()
    drain(app)
    body = client.get(f"/api/v1/applications/{created['id']}", headers=auth).get_json()
    certificate: dict[str, Any] = body["certificate"]
    certificate["token"] = certificate["verify_url"].split("#", 1)[1]
    return certificate


@pytest.fixture
def auth(client: FlaskClient) -> dict[str, str]:
    """The Authorization header of a fresh applicant."""
    return signup_and_token(client)


def csrf_token_of(html: str) -> str | None:
    """The CSRF token a rendered form carries, if any."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    return match.group(1) if match else None


def web_login(app: Flask, client: FlaskClient, email: str, password: str) -> Any:
    """Log in through the pages as a person would, second factor included.

    Officers and admins enrol an authenticator on their first log-in (the page
    shows the key) and give its code on later ones; the helper computes the
    code as the app would. Each log-in is treated as happening in a new
    30-second window (a code is never accepted twice).
    """
    form = {"email": email, "password": password}
    token = csrf_token_of(client.get("/login").get_data(as_text=True))
    if token:
        form["csrf_token"] = token
    response = client.post("/login", data=form)
    if response.status_code != 303 or response.headers["Location"] != "/login/code":
        return response
    page = client.get("/login/code").get_data(as_text=True)
    enrolling = re.search(r'data-totp-secret="([A-Z2-7]+)"', page)
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == email.lower())).one()
        user.totp_last_step = None
        secret = enrolling.group(1) if enrolling else user.totp_secret
        db.session.commit()
    assert secret is not None
    code_form = {"code": pyotp.TOTP(secret).now()}
    token = csrf_token_of(page)
    if token:
        code_form["csrf_token"] = token
    return client.post("/login/code", data=code_form)


@contextmanager
def logged(caplog: pytest.LogCaptureFixture, name: str) -> Iterator[list[str]]:
    """Capture what logger ``name`` and its children write, whatever logging set-up ran
    before (Alembic's fileConfig, run by the migration tests, disables existing loggers)."""
    logger = logging.getLogger(name)
    family = [logger] + [
        child
        for child_name, child in logging.root.manager.loggerDict.items()
        if child_name.startswith(f"{name}.") and isinstance(child, logging.Logger)
    ]
    was_disabled = [member.disabled for member in family]
    for member in family:
        member.disabled = False
    logger.addHandler(caplog.handler)
    try:
        yield caplog.messages
    finally:
        logger.removeHandler(caplog.handler)
        for member, disabled in zip(family, was_disabled, strict=True):
            member.disabled = disabled
