"""The Alembic migrations build exactly the models' schema."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import inspect

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
