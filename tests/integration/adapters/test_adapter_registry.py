"""One registry answers who serves a country: packages, database agencies, required countries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from certificate.config import ConfigError
from tests.conftest import SANDBOX
from tests.integration.adapters.test_adapter_packages import _fake_dist
from tests.integration.web.test_pages import signup

SPY = """
import json, os

def provide(settings):
    with open(os.environ["SPY_RECORD"], "w") as out:
        json.dump(sorted(settings), out)
    return []
"""


def add_portal_agency(runner: FlaskCliRunner, country: str, name: str) -> str:
    """Register a portal agency with the operator command; its id."""
    command = ["agencies", "add", "--country", country, "--name", name, "--mode", "portal"]
    added = runner.invoke(args=command)
    assert added.exit_code == 0, added.output
    return str(added.output.strip().splitlines()[-1])


def test_a_provider_receives_only_its_own_namespace(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    app_config: dict[str, Any],
    make_app: Callable[[dict[str, Any]], Flask],
) -> None:
    site = tmp_path / "site"
    _fake_dist(
        site, "spy-adapter", "[ipc.country_adapters]\nspy = spy_mod:provide\n", SPY, "spy_mod"
    )
    monkeypatch.syspath_prepend(str(site))
    record = tmp_path / "received.json"
    monkeypatch.setenv("SPY_RECORD", str(record))
    monkeypatch.setenv("IPC_ADAPTER_SPY_PASSWORD", "from-the-environment")
    monkeypatch.setenv("IPC_ADAPTER_NZ_TOKEN", "another-adapter's")
    app_config.update(
        ADAPTER_SPY_TOKEN="t0ken",
        ADAPTER_SPY_SECRET="s3cret",
        ADAPTER_SPYGLASS_URL="not the spy's",
        DATA_KEYS=None,
    )
    make_app(app_config)
    assert json.loads(record.read_text()) == ["PASSWORD", "SECRET", "TOKEN"]


def test_a_required_country_nothing_serves_stops_the_start(
    app_config: dict[str, Any], make_app: Callable[[dict[str, Any]], Flask]
) -> None:
    app_config["REQUIRED_COUNTRIES"] = "KE,NZ,FJ"
    with pytest.raises(ConfigError, match="IPC_REQUIRED_COUNTRIES lists FJ, NZ,"):
        make_app(app_config)
    app_config["REQUIRED_COUNTRIES"] = "KE,TH"
    assert make_app(app_config).config["REQUIRED_COUNTRIES"] == ["KE", "TH"]


def test_a_required_country_must_be_a_country(
    app_config: dict[str, Any], make_app: Callable[[dict[str, Any]], Flask]
) -> None:
    app_config["REQUIRED_COUNTRIES"] = "KE,XX"
    with pytest.raises(ConfigError, match="IPC_REQUIRED_COUNTRIES: .*XX"):
        make_app(app_config)


def test_adapters_list_shows_packages_and_agencies(runner: FlaskCliRunner) -> None:
    add_portal_agency(runner, "IS", "Records of Iceland")
    listed = runner.invoke(args=["adapters", "list"])
    assert listed.exit_code == 0, listed.output
    lines = {line.split()[0]: line for line in listed.output.splitlines()}
    assert "portal agency" in lines["IS"]
    assert "Records of Iceland" in lines["IS"]
    assert "package international-police-certificate" in lines["KE"]
    assert set(lines) == {"IS", *SANDBOX.split(",")}


def test_an_agency_takes_precedence_over_a_package_until_disabled(
    app: Flask, runner: FlaskCliRunner
) -> None:
    agency_id = add_portal_agency(runner, "KE", "Kenya Police")
    with app.app_context():
        registry = app.extensions["ipc"].registry
        assert registry.get("KE").authority == "Kenya Police"
        assert "agency" in registry.sources()["KE"]
    runner.invoke(args=["agencies", "disable", agency_id])
    with app.app_context():
        assert registry.get("KE").authority.startswith("Sandbox")


def test_the_filing_form_marks_a_portal_agency_participating(
    client: FlaskClient, runner: FlaskCliRunner
) -> None:
    add_portal_agency(runner, "IS", "Records of Iceland")
    signup(client)
    html = client.get("/applications/new").get_data(as_text=True)
    assert '<option value="IS">Iceland — participating</option>' in html
    assert '<option value="NZ">New Zealand</option>' in html


def test_adapters_list_exits_non_zero_naming_an_unserved_required_country(
    tmp_path: Path,
) -> None:
    env = {
        **os.environ,
        "IPC_INSTANCE_PATH": str(tmp_path / "instance"),
        "IPC_SANDBOX_COUNTRIES": "KE",
        "IPC_REQUIRED_COUNTRIES": "KE,NZ",
    }
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    root = Path(__file__).resolve().parents[3]
    listed = subprocess.run(
        [*flask, "adapters", "list"], env=env, cwd=root, capture_output=True, text=True, timeout=120
    )
    assert listed.returncode != 0
    assert listed.stdout.startswith("KE  package")
    assert "NZ" in listed.stderr
    refused = subprocess.run(
        [*flask, "users", "--help"], env=env, cwd=root, capture_output=True, text=True, timeout=120
    )
    assert refused.returncode != 0
    assert "IPC_REQUIRED_COUNTRIES lists NZ" in refused.stderr
