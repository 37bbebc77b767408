"""Security headers on every answer: pages, JSON, files and errors alike."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import signup_and_token

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def _paths(app: Flask) -> list[str]:
    """Every GET route that takes no parameter, plus a few that do and an unknown one."""
    plain = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or set()) and not rule.arguments
    ]
    return [
        *plain,
        "/static/style.css",
        "/applications/unknown",
        "/api/v1/applications/x",
        "/no/such/page",
    ]


def test_every_answer_carries_the_security_headers(app: Flask, client: FlaskClient) -> None:
    headers = signup_and_token(client)
    checked = 0
    for path in _paths(app):
        for extra in ({}, headers):
            response = client.get(path, headers=extra)
            for name, value in EXPECTED.items():
                assert response.headers.get(name) == value, (path, name)
            csp = response.headers.get("Content-Security-Policy", "")
            assert "default-src 'self'" in csp, path
            assert "frame-ancestors 'none'" in csp, path
            assert "'unsafe-inline'" not in csp, path
            response.close()
            checked += 1
    assert checked >= 20


def _logged_in_cookie(client: FlaskClient, base_url: str = "http://localhost") -> str:
    signup_and_token(client)
    page = client.post(
        "/login",
        data={"email": "ada@example.org", "password": "correct horse battery"},
        base_url=base_url,
    )
    return str(page.headers.get("Set-Cookie", ""))


def test_cookies_are_http_only_and_same_site(app: Flask, client: FlaskClient) -> None:
    cookie = _logged_in_cookie(client)
    assert cookie.startswith("session=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_cookies_are_secure_behind_https(app_config: dict[str, Any], make_app: Any) -> None:
    app_config["BASE_URL"] = "https://verify.example.org"
    app = make_app(app_config)
    from certificate.db import db

    with app.app_context():
        db.create_all()
    client = app.test_client()
    assert "Secure" in _logged_in_cookie(client, "https://verify.example.org")
    page = client.get("/", base_url="https://verify.example.org")
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
