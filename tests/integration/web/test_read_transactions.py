"""On SQLite a request that only reads never takes, or waits for, the one write lock."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from certificate.db import db
from tests.conftest import application_body, issue_certificate, signup_and_token


@pytest.fixture
def sqlite_path(app: Flask) -> str:
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("the write lock is SQLite's (PostgreSQL's writers run side by side)")
        path = db.engine.url.database
    assert path
    return path


@pytest.fixture
def begins(app: Flask) -> Iterator[list[str]]:
    """Every ``BEGIN`` the app's engine sends, as sent."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("BEGIN"):
            seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def _file(client: FlaskClient, auth: dict[str, str]) -> str:
    filed = client.post("/api/v1/applications", json=application_body(), headers=auth)
    assert filed.status_code == 201, filed.get_json()
    return str(filed.get_json()["id"])


def test_a_read_begins_without_the_write_lock_and_a_write_with_it(
    sqlite_path: str, begins: list[str], client: FlaskClient, auth: dict[str, str]
) -> None:
    begins.clear()
    application_id = _file(client, auth)
    assert begins
    assert set(begins) == {"BEGIN IMMEDIATE"}

    begins.clear()
    read = client.get(f"/api/v1/applications/{application_id}", headers=auth)
    assert read.status_code == 200
    assert begins
    assert set(begins) == {"BEGIN"}


def test_reads_go_on_while_a_writer_holds_the_lock(
    app: Flask, sqlite_path: str, client: FlaskClient, auth: dict[str, str]
) -> None:
    application_id = _file(client, auth)
    writer = sqlite3.connect(sqlite_path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process's write transaction, held
    answers: dict[str, int] = {}

    def request(name: str, method: str, url: str, **kwargs: Any) -> threading.Thread:
        def run() -> None:
            with app.test_client() as own:
                answers[name] = own.open(url, method=method, headers=auth, **kwargs).status_code

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    try:
        read = request("read", "GET", f"/api/v1/applications/{application_id}")
        read.join(timeout=20)
        assert not read.is_alive(), "a read waited for the write lock"
        assert answers["read"] == 200

        write = request("write", "POST", "/api/v1/applications", json=application_body())
        write.join(timeout=1)
        assert write.is_alive(), "a write went ahead while another held the lock"
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    write.join(timeout=20)
    assert answers["write"] == 201


@pytest.fixture
def limited_config(app_config: dict[str, Any]) -> dict[str, Any]:
    # every verification flushes its count (the database store's batch of one)
    return {**app_config, "RATELIMIT_ENABLED": True, "RATE_LIMIT_BATCH": 1}


def test_a_verification_counts_itself_while_a_writer_holds_the_lock(
    make_app: Any, limited_config: dict[str, Any]
) -> None:
    """The rate-limit counts live in a file of their own: a verification's count does
    not wait for the service's write lock (held here by another process, as the history
    and the audit chain's sealing hold it in turn)."""
    app = make_app(limited_config)
    with app.app_context():
        db.create_all()
        if db.engine.dialect.name != "sqlite":
            pytest.skip("the write lock is SQLite's (PostgreSQL's writers run side by side)")
        path = db.engine.url.database
    assert path
    client = app.test_client()
    token = issue_certificate(app, client, signup_and_token(client))["token"]
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    answers: list[int] = []

    def verify() -> None:
        with app.test_client() as own:
            answers.append(own.post("/api/v1/verify", json={"token": token}).status_code)

    try:
        thread = threading.Thread(target=verify)
        thread.start()
        thread.join(timeout=10)
        assert not thread.is_alive(), "a verification waited for the service's write lock"
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    thread.join(timeout=40)
    assert answers == [200]
