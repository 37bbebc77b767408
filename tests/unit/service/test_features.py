"""Features register themselves: the factory only lists them."""

from __future__ import annotations

from importlib import import_module

import pytest
from flask import Flask
from flask.testing import FlaskClient

from certificate import FEATURES
from certificate.periodic import add_periodic_task, periodic_tasks, run_periodic_tasks


def test_every_feature_has_init_app() -> None:
    for name in FEATURES:
        assert callable(import_module(name).init_app), name


def test_features_register_their_commands_and_periodic_tasks(app: Flask) -> None:
    commands = set(app.cli.commands)
    assert {
        "users",
        "agencies",
        "certificates",
        "keys",
        "audit",
        "data",
        "demo",
        "purge",
    } <= commands
    names = [task.name for task in periodic_tasks(app)]
    assert {"verify.chain_verifications", "upkeep.purge"} <= set(names)


def test_periodic_tasks_run_in_order_and_respect_their_interval(app: Flask) -> None:
    ran: list[str] = []
    app.config["TEST_EVERY"] = 3600
    add_periodic_task(app, "test.always", lambda: ran.append("always"))
    add_periodic_task(app, "test.hourly", lambda: ran.append("hourly"), every_setting="TEST_EVERY")
    with app.app_context():
        run_periodic_tasks()
        run_periodic_tasks()
    assert ran == ["always", "hourly", "always"]


def test_a_task_name_is_registered_once(app: Flask) -> None:
    add_periodic_task(app, "test.once", lambda: None)
    with pytest.raises(ValueError, match="test.once"):
        add_periodic_task(app, "test.once", lambda: None)


def test_navigation_shows_each_role_its_links(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    assert "Verify a certificate" in page
    assert "Failed checks" not in page
    assert "My applications" not in page
