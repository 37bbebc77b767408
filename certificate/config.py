"""Configuration: safe defaults for a laptop, then the instance folder, then ``IPC_*`` variables."""

from __future__ import annotations

import contextlib
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from limits import parse as parse_rate_limit

from country_adapters.countries import parse_countries

DEFAULTS: dict[str, Any] = {
    "BASE_URL": "http://127.0.0.1:5000",
    # The signed claims' `iss`: short, because the token must fit the QR code.
    "ISSUER": "IPC",
    "DATABASE_URL": None,  # SQLite in the instance folder
    "CHECK_DEADLINE_SECONDS": 14 * 24 * 3600,
    "VERIFY_RATE_LIMIT": "120/minute",
    # verification history is written in batches this often (a crash loses at most this much);
    # 0 writes each row at once, on the request path
    "VERIFY_HISTORY_SECONDS": 1.0,
    "LOGIN_RATE_LIMIT": "20/minute",
    # where rate-limit counts live: a redis:// URL, or unset for the database (see rate_limits.py)
    "RATE_LIMIT_STORAGE_URL": "",
    # the database store adds a process's hits to the shared count once per this many
    "RATE_LIMIT_BATCH": 5,
    # how many reverse proxies stand in front of the service (X-Forwarded-For entries trusted)
    "TRUSTED_PROXIES": 0,
    "CERTIFICATE_VALIDITY_DAYS": 180,
    # "required": e-mail and identity proven before any agency is asked; "sandbox": demos
    "IDENTITY_PROOFING": "required",
    # OpenID Connect identity providers: a JSON list (see certificate/identity/oidc.py)
    "OIDC_PROVIDERS": [],
    # e-mail: unset, messages are written to the log
    "SMTP_URL": None,
    "MAIL_FROM": None,
    "SMTP_TIMEOUT_SECONDS": 10.0,
    "OUTBOX_WORKERS": 4,
    # < 1 shortens every wait between delivery attempts (tests)
    "OUTBOX_RETRY_SCALE": 1.0,
    "WEBHOOK_RETRY_HOURS": 26,
    # webhooks to private or loopback addresses (tests, demos): never in production
    "WEBHOOK_ALLOW_PRIVATE": False,
    # personal data is purged this long after the last certificate expires, or a withdrawal
    "RETENTION_DAYS_AFTER_EXPIRY": 365,
    "RETENTION_DAYS_AFTER_WITHDRAWAL": 30,
    "PURGE_INTERVAL_SECONDS": 3600,
    # a PDF written for a certificate whose row never committed (a crash) is removed after this
    "ORPHAN_DOCUMENT_SECONDS": 60,
    "TOKEN_TTL_SECONDS": 3600,
    "SESSION_IDLE_SECONDS": 30 * 60,
    "SESSION_ABSOLUTE_SECONDS": 12 * 3600,
    # the embedded job engine
    "JOBS_ENABLED": True,
    "JOB_WORKERS": 32,
    "SWEEP_INTERVAL_SECONDS": 2.0,
    "RETRY_BASE_SECONDS": 2.0,
    "RETRY_MAX_SECONDS": 600.0,
    "MAX_ATTEMPTS": 10,
    "LEASE_SECONDS": 120,
    # push-mode agencies
    "PUSH_TIMEOUT_SECONDS": 10.0,
    "PUSH_BREAKER_FAILURES": 5,
    "PUSH_BREAKER_RESET_SECONDS": 30.0,
    "PUSH_MAX_CONCURRENT": 4,  # calls in flight to one push agency, per process
    "LOG_FORMAT": "text",  # or "json": one JSON object a line, no personal data
    "LOG_LEVEL": "INFO",
    "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,
    # a connection that died with a database restart is replaced, not handed to a request
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
}


# Both travel in every QR code; the limits keep the largest certificate within
# QR version 20 at level M (tests/unit/issuance/test_claims.py holds them to it).
MAX_BASE_URL_LENGTH = 36
MAX_ISSUER_LENGTH = 4


class ConfigError(RuntimeError):
    """The configuration cannot work; the message says which setting and why."""


def load_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Fill ``app.config`` in order: defaults, instance ``config.py``, environment, test config."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("IPC")
    if test_config:
        app.config.from_mapping(test_config)
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(PermissionError):  # not ours to change: the operator chose
        instance.chmod(0o700)  # keys, the database and sealed PDFs: the owner's alone
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(instance / "secret_key")
    if not app.config.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = f"sqlite:///{instance / 'ipc.sqlite3'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    app.config["BASE_URL"] = str(app.config["BASE_URL"]).rstrip("/")
    app.config["SESSION_COOKIE_SECURE"] = app.config["BASE_URL"].startswith("https://")
    validate_config(app.config)


def _instance_secret(path: Path) -> str:
    """Read the session secret, creating it on first use."""
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def validate_config(config: dict[str, Any]) -> None:
    """Refuse to start on a setting that cannot work, naming it."""
    base = urlsplit(config["BASE_URL"])
    if base.scheme not in ("http", "https") or not base.netloc or base.query or base.fragment:
        raise ConfigError(f"IPC_BASE_URL must be an http(s) origin, got {config['BASE_URL']!r}")
    if len(config["BASE_URL"]) > MAX_BASE_URL_LENGTH:
        raise ConfigError(
            f"IPC_BASE_URL may be at most {MAX_BASE_URL_LENGTH} characters: it is printed "
            "in every certificate's QR code, whose size is bounded"
        )
    issuer = str(config["ISSUER"])
    if not (0 < len(issuer) <= MAX_ISSUER_LENGTH) or not issuer.isprintable():
        raise ConfigError(f"IPC_ISSUER must be 1 to {MAX_ISSUER_LENGTH} printable characters")
    try:
        config["REQUIRED_COUNTRIES"] = parse_countries(config.get("REQUIRED_COUNTRIES"))
    except ValueError as exc:
        raise ConfigError(f"IPC_REQUIRED_COUNTRIES: {exc}") from exc
    for name in (
        "CHECK_DEADLINE_SECONDS",
        "CERTIFICATE_VALIDITY_DAYS",
        "TOKEN_TTL_SECONDS",
        "JOB_WORKERS",
        "MAX_ATTEMPTS",
        "LEASE_SECONDS",
        "PUSH_TIMEOUT_SECONDS",
        "PUSH_BREAKER_FAILURES",
        "PUSH_BREAKER_RESET_SECONDS",
        "PUSH_MAX_CONCURRENT",
        "SESSION_IDLE_SECONDS",
        "SESSION_ABSOLUTE_SECONDS",
        "PURGE_INTERVAL_SECONDS",
        "ORPHAN_DOCUMENT_SECONDS",
        "RATE_LIMIT_BATCH",
        "SMTP_TIMEOUT_SECONDS",
        "OUTBOX_WORKERS",
        "OUTBOX_RETRY_SCALE",
        "WEBHOOK_RETRY_HOURS",
    ):
        value = config[name]
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigError(f"IPC_{name} must be a positive number, got {value!r}")
    for name in (
        "RETENTION_DAYS_AFTER_EXPIRY",
        "RETENTION_DAYS_AFTER_WITHDRAWAL",
        "SWEEP_INTERVAL_SECONDS",
        "VERIFY_HISTORY_SECONDS",
        "RETRY_BASE_SECONDS",
        "RETRY_MAX_SECONDS",
        "TRUSTED_PROXIES",
    ):
        value = config[name]
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ConfigError(f"IPC_{name} must be a number ≥ 0, got {value!r}")
    if not isinstance(config["TRUSTED_PROXIES"], int) or isinstance(
        config["TRUSTED_PROXIES"], bool
    ):
        raise ConfigError("IPC_TRUSTED_PROXIES must be a whole number of proxies")
    storage = str(config["RATE_LIMIT_STORAGE_URL"] or "")
    if storage and urlsplit(storage).scheme not in ("redis", "rediss", "memory"):
        raise ConfigError(
            "IPC_RATE_LIMIT_STORAGE_URL must be a redis:// URL (or unset: the database)"
        )
    if config["IDENTITY_PROOFING"] not in ("required", "sandbox"):
        raise ConfigError(
            f"IPC_IDENTITY_PROOFING must be 'required' or 'sandbox', "
            f"got {config['IDENTITY_PROOFING']!r}"
        )
    for name in ("VERIFY_RATE_LIMIT", "LOGIN_RATE_LIMIT"):
        try:
            parse_rate_limit(str(config[name]))
        except ValueError as exc:
            raise ConfigError(f"IPC_{name} is not a rate limit like '120/minute'") from exc
