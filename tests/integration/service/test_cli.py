"""Operator commands."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from certificate.auth.models import User
from certificate.db import db


def test_users_create_prints_the_id(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "Officer@Example.org",
            "--password",
            "a long password",
            "--role",
            "agency-officer",
            "--country",
            "ke",
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalars(select(User)).one()
        assert result.output.strip().splitlines()[-1] == user.id
        assert (user.email, user.role, user.country) == (
            "officer@example.org",
            "agency-officer",
            "KE",
        )
        assert user.password_hash.startswith("$argon2id$")


def test_users_create_refuses_bad_input_naming_the_option(
    app: Flask, runner: FlaskCliRunner
) -> None:
    cases = [
        (["--role", "agency-officer"], "--country"),
        (["--role", "applicant", "--country", "KE"], "--country"),
        (["--role", "pope"], "--role"),
        (["--password", "short"], "--password"),
    ]
    for extra, option in cases:
        args = [
            "users",
            "create",
            "--email",
            "x@example.org",
            "--password",
            "a long password",
            *extra,
        ]
        result = runner.invoke(args=args)
        assert result.exit_code != 0
        assert option in result.output
    with app.app_context():
        assert db.session.scalars(select(User)).all() == []


def test_demo_seed_is_idempotent(app: Flask, runner: FlaskCliRunner) -> None:
    first = runner.invoke(args=["demo", "seed"])
    second = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == second.exit_code == 0
    assert "applicant@example.org" in first.output
    assert "password:" in first.output
    with app.app_context():
        roles = sorted(u.role for u in db.session.scalars(select(User)))
    assert roles == ["admin", "agency-officer", "applicant", "employer", "id-checker"]
    assert "Demo Children's Charity" in second.output
    from certificate.agency.service import enabled_agency

    with app.app_context():
        agency = enabled_agency(db.session, "IS")
        assert agency is not None
        assert agency.mode == "portal"
