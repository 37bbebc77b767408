"""Start-up validation of settings, and the retry schedule."""

from __future__ import annotations

import random
from typing import Any

import pytest
from flask import Flask

from certificate import create_app
from certificate.checks.service import backoff_delay
from certificate.config import ConfigError
from country_adapters.registry import AdapterLoadError


@pytest.mark.parametrize(
    ("setting", "value", "words"),
    [
        ("BASE_URL", "ftp://example.org", "IPC_BASE_URL"),
        ("BASE_URL", "https://" + "x" * 40 + ".org", "at most 36"),
        ("CHECK_DEADLINE_SECONDS", 0, "IPC_CHECK_DEADLINE_SECONDS"),
        ("JOB_WORKERS", "many", "IPC_JOB_WORKERS"),
        ("VERIFY_RATE_LIMIT", "lots", "IPC_VERIFY_RATE_LIMIT"),
        ("ISSUER", "INTERPOL", "IPC_ISSUER"),
    ],
)
def test_bad_settings_stop_the_start_naming_the_variable(
    app_config: dict[str, Any], setting: str, value: Any, words: str
) -> None:
    app_config[setting] = value
    with pytest.raises(ConfigError, match=words):
        create_app(app_config)


@pytest.mark.parametrize(
    ("setting", "value", "words"),
    [
        ("SANDBOX_COUNTRIES", "KE,XX", "IPC_SANDBOX_COUNTRIES: .*XX"),
        ("SANDBOX_LATENCY_MS", -1, "IPC_SANDBOX_LATENCY_MS must be a number"),
    ],
)
def test_the_sandbox_refuses_its_own_bad_settings(
    app_config: dict[str, Any], setting: str, value: Any, words: str
) -> None:
    app_config[setting] = value
    with pytest.raises(AdapterLoadError, match=words):
        create_app(app_config)


def test_environment_variables_configure_the_app(
    app_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    app_config.pop("SANDBOX_COUNTRIES")
    monkeypatch.setenv("IPC_SANDBOX_COUNTRIES", "ke, th")
    monkeypatch.setenv("IPC_CHECK_DEADLINE_SECONDS", "30")
    app = create_app(app_config)
    assert app.config["CHECK_DEADLINE_SECONDS"] == 30
    assert app.extensions["ipc"].registry.countries() == ["KE", "TH"]


def test_defaults_create_the_secret_and_database_in_the_instance_folder(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("IPC_DATABASE_URL", "IPC_SECRET_KEY", "IPC_SANDBOX_COUNTRIES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("IPC_INSTANCE_PATH", str(tmp_path / "inst"))
    app = create_app()
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'inst' / 'ipc.sqlite3'}"
    secret = (tmp_path / "inst" / "secret_key").read_text()
    assert app.config["SECRET_KEY"] == secret
    assert len(secret) == 64
    assert create_app().config["SECRET_KEY"] == secret  # kept across restarts
    assert app.extensions["ipc"].registry.countries() == []  # production: no sandbox


def test_backoff_grows_is_capped_and_jittered() -> None:
    rng = random.Random(7)
    delays = [backoff_delay(n, base=1, cap=30, rng=rng) for n in range(1, 9)]
    for attempt, delay in enumerate(delays, start=1):
        ceiling = min(30, 2 ** (attempt - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert len({round(backoff_delay(3, 1, 30), 6) for _ in range(20)}) > 1


def test_verification_is_rate_limited_with_retry_after(app_config: dict[str, Any]) -> None:
    app_config.update(RATELIMIT_ENABLED=True, VERIFY_RATE_LIMIT="2/minute")
    app: Flask = create_app(app_config)
    client = app.test_client()
    answers = [client.post("/api/v1/verify", json={"token": "x.y.z"}) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert int(answers[2].headers["Retry-After"]) > 0
    assert answers[2].get_json()["error"]["code"] == "rate_limited"
