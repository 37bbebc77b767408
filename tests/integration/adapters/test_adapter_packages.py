"""Adapters installed as their own packages are found through entry points, or refused loudly."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from certificate import create_app
from certificate.db import db
from country_adapters.registry import AdapterLoadError, load_registry
from tests.conftest import application_body, drain, signup_and_token

ADAPTER_MODULE = '''
"""A throwaway agency for Iceland that finds a record for everyone called Jonsdottir."""
from datetime import UTC, datetime, timedelta

from country_adapters.base import ADAPTER_API_VERSION, Answer, Outcome, Pending, Record


class IcelandAdapter:
    api_version = ADAPTER_API_VERSION
    country = "IS"
    authority = "Test Registry of Iceland"
    deadline = timedelta(days=3)
    pollable = False
    specimen = True

    def submit(self, query):
        if query.subject.family_name == "Jonsdottir":
            record = Record("Test offence", "other", "2001-01-01", "Test court", "Test sentence")
            return Answer(Outcome.RECORD_FOUND, (record,), datetime.now(UTC), "IS-1")
        return Answer(Outcome.NO_RECORD, (), datetime.now(UTC), "IS-2")

    def poll(self, query):
        return Pending()


def provide(settings):
    return [IcelandAdapter()]
'''


def _install(tmp_path: Path) -> Path:
    """Build and pip-install a real package that registers an adapter for IS."""
    source = tmp_path / "ipc-adapter-is"
    (source / "ipc_adapter_is").mkdir(parents=True)
    (source / "ipc_adapter_is" / "__init__.py").write_text(textwrap.dedent(ADAPTER_MODULE))
    (source / "pyproject.toml").write_text(
        textwrap.dedent("""
        [build-system]
        requires = ["setuptools>=69"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "ipc-adapter-is"
        version = "1.0.0"
        [project.entry-points."ipc.country_adapters"]
        IS = "ipc_adapter_is:provide"
        [tool.setuptools]
        packages = ["ipc_adapter_is"]
    """)
    )
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(target),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    return target


def test_an_installed_package_serves_its_country(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    app_config: dict[str, Any],
    make_app: Callable[[dict[str, Any]], Flask],
) -> None:
    monkeypatch.syspath_prepend(str(_install(tmp_path)))
    app = make_app(app_config)
    assert "IS" in app.extensions["ipc"].registry.countries()
    assert "ipc-adapter-is 1.0.0" in app.extensions["ipc"].registry.sources()["IS"]
    with app.app_context():
        db.create_all()
    client = app.test_client()
    auth = signup_and_token(client)
    body = application_body("Jonsdottir")
    body["residences"] = [{"country": "IS", "from": "2015-01", "to": "2019-12"}]
    created = client.post("/api/v1/applications", json=body, headers=auth).get_json()
    drain(app)
    result = client.get(f"/api/v1/applications/{created['id']}", headers=auth).get_json()
    by_country = {c["country"]: c for c in result["checks"]}
    assert by_country["IS"]["status"] == "answered"
    assert by_country["IS"]["outcome"] == "record_found"
    assert by_country["IS"]["authority"] == "Test Registry of Iceland"


def _fake_dist(
    site: Path, name: str, entry_points: str, module: str = "", module_name: str = ""
) -> None:
    """An installed distribution as pip leaves it: metadata, entry points and code."""
    info = site / f"{name}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(entry_points)
    if module_name:
        (site / f"{module_name}.py").write_text(textwrap.dedent(module))


GROUP = "ipc.test_adapters"


def _registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *dists: tuple[str, str, str, str]):
    site = tmp_path / "site"
    for name, eps, module_name, module in dists:
        _fake_dist(site, name, eps, module, module_name)
    monkeypatch.syspath_prepend(str(site))
    return load_registry({}, group=GROUP)


PROVIDER = """
from country_adapters.sandbox import SandboxAdapter
def provide(settings):
    return [SandboxAdapter("{country}")]
"""


def test_a_package_that_fails_to_import_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(AdapterLoadError, match="broken-adapter 0.1"):
        _registry(
            tmp_path,
            monkeypatch,
            (
                "broken-adapter",
                f"[{GROUP}]\nKE = broken_mod:provide\n",
                "broken_mod",
                "raise ImportError('missing dependency')\n",
            ),
        )


def test_a_name_that_is_not_a_country_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(AdapterLoadError, match="ISO 3166-1"):
        _registry(
            tmp_path,
            monkeypatch,
            (
                "odd-adapter",
                f"[{GROUP}]\nKenya = odd_mod:provide\n",
                "odd_mod",
                PROVIDER.format(country="KE"),
            ),
        )


def test_a_package_serving_another_country_than_its_name_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(AdapterLoadError, match="named TH but serves KE"):
        _registry(
            tmp_path,
            monkeypatch,
            (
                "liar-adapter",
                f"[{GROUP}]\nTH = liar_mod:provide\n",
                "liar_mod",
                PROVIDER.format(country="KE"),
            ),
        )


def test_two_packages_for_one_country_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(AdapterLoadError, match="KE is served twice"):
        _registry(
            tmp_path,
            monkeypatch,
            (
                "one-adapter",
                f"[{GROUP}]\nKE = one_mod:provide\n",
                "one_mod",
                PROVIDER.format(country="KE"),
            ),
            (
                "two-adapter",
                f"[{GROUP}]\nfriends = two_mod:provide\n",
                "two_mod",
                PROVIDER.format(country="KE"),
            ),
        )


def test_an_object_without_the_protocol_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(AdapterLoadError, match="lacks .*submit"):
        _registry(
            tmp_path,
            monkeypatch,
            (
                "half-adapter",
                f"[{GROUP}]\nKE = half_mod:provide\n",
                "half_mod",
                "class A:\n    api_version = 1\n    country = 'KE'\n    authority = 'x'\n"
                "    deadline = None\n    pollable = False\n    specimen = True\n"
                "def provide(settings):\n    return [A()]\n",
            ),
        )


def test_the_service_refuses_to_start_with_a_broken_adapter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, app_config: dict[str, Any]
) -> None:
    site = tmp_path / "site"
    _fake_dist(
        site,
        "bad-adapter",
        "[ipc.country_adapters]\nKE = bad_mod:provide\n",
        module="def provide(settings):\n    raise RuntimeError('no endpoint configured')\n",
        module_name="bad_mod",
    )
    monkeypatch.syspath_prepend(str(site))
    with pytest.raises(AdapterLoadError, match="bad-adapter 0.1.*no endpoint configured"):
        create_app(app_config)


def test_a_country_without_adapter_is_not_covered_at_once(app: Flask) -> None:
    client = app.test_client()
    auth = signup_and_token(client)
    body = application_body()
    body["residences"].append({"country": "NZ", "from": "2010-01", "to": "2011-01"})
    created = client.post("/api/v1/applications", json=body, headers=auth).get_json()
    by_country = {c["country"]: c["status"] for c in created["checks"]}
    assert by_country["NZ"] == "not_covered"
    assert by_country["KE"] == "queued"
