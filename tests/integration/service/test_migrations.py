"""The Alembic migrations build exactly the models' schema."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import inspect, select

from certificate.db import Base, db


def test_upgrade_matches_the_models(
    app_config: dict[str, Any], make_app: Callable[[dict[str, Any]], Flask]
) -> None:
    app = make_app(app_config)
    runner: FlaskCliRunner = app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
        assert {
            "users",
            "applications",
            "checks",
            "certificates",
            "signing_keys",
            "audit_events",
            "idempotency_keys",
        } <= tables
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
        assert diff == []
        downgrade = runner.invoke(args=["db", "downgrade", "base"])
        assert downgrade.exit_code == 0, downgrade.output
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}


def test_the_upgrade_seals_outcomes_tokens_and_audit_details_already_stored(
    app_config: dict[str, Any], make_app: Callable[[dict[str, Any]], Flask]
) -> None:
    """Rows written in clear before the sealing revision are sealed by the upgrade."""
    from sqlalchemy import text

    from certificate.checks.models import Check
    from tests.conftest import application_body, drain, signup_and_token

    app = make_app(app_config)
    runner: FlaskCliRunner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    client = app.test_client()
    auth = signup_and_token(client)
    created = client.post(
        "/api/v1/applications", json=application_body("RECORDHOLDER"), headers=auth
    )
    drain(app)
    path = f"/api/v1/applications/{created.get_json()['id']}"
    before = client.get(path, headers=auth).get_json()
    assert before["status"] == "complete"

    clear = runner.invoke(args=["db", "downgrade", "0cc5e73c9330"])  # the release before
    assert clear.exit_code == 0, clear.output
    with app.app_context():
        outcomes = db.session.execute(text("SELECT outcome FROM checks")).scalars().all()
        assert set(outcomes) == {"record_found"}  # in clear, as that release stored them
        tokens = db.session.execute(text("SELECT token FROM certificates")).scalars().all()
        assert all(t.startswith("eyJ") for t in tokens)
        db.session.rollback()

    sealed = runner.invoke(args=["db", "upgrade"])
    assert sealed.exit_code == 0, sealed.output
    with app.app_context():
        for column in (
            "checks.outcome",
            "checks.records",
            "certificates.token",
            "audit_events.details",
        ):
            table, name = column.split(".")
            values = db.session.execute(text(f"SELECT {name} FROM {table}")).scalars().all()  # noqa: S608
            assert values
            assert all(str(v).startswith("enc:v2:") for v in values), column
        assert {c.outcome for c in db.session.scalars(select(Check))} == {"record_found"}
        db.session.rollback()
    assert client.get(path, headers=auth).get_json() == before
