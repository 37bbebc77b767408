"""The service's long-lived collaborators, built once per app and found through ``current_app``."""

from __future__ import annotations

import atexit
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.engine import Engine

from certificate.db import db
from certificate.encryption import install_keys, keyring, load_data_keys
from certificate.issuance.service import IssuanceSettings
from certificate.signing.keys import FileKeyStore, KeyStore
from certificate.signing.pades import PadesSource
from certificate.signing.token_macs import TokenMacKeys
from certificate.storage import FileStore, LocalFileStore, SealedFileStore
from certificate.verify.history import HistoryBuffer
from certificate.verify.lookup import CertificateReader
from certificate.verify.service import VerificationKeys, Verifier
from country_adapters.registry import AdapterRegistry, load_registry

if TYPE_CHECKING:
    from certificate.jobs import JobEngine

EXTENSION_KEY = "ipc"


@dataclass
class Runtime:
    """The adapter registry, keys, storage and the job engine of one app."""

    registry: AdapterRegistry
    keys: KeyStore
    verifier: Verifier
    files: FileStore
    issuance: IssuanceSettings
    default_deadline: timedelta
    jobs: JobEngine


def build_runtime(app: Flask) -> Runtime:
    """Load adapters (failing loudly on a broken package) and open the stores."""
    from certificate.celery_engine import CeleryJobEngine
    from certificate.jobs import ThreadJobEngine

    config: dict[str, Any] = app.config
    instance = Path(app.instance_path)
    install_keys(*load_data_keys(instance, config.get("DATA_KEYS")))
    keys = FileKeyStore(instance / "keys")
    runtime = Runtime(
        registry=load_registry(config),
        keys=keys,
        verifier=_verifier(app, keys),
        files=SealedFileStore(LocalFileStore(instance / "certificates"), keyring()),
        issuance=IssuanceSettings(
            base_url=config["BASE_URL"],
            issuer=str(config["ISSUER"]),
            validity=timedelta(days=config["CERTIFICATE_VALIDITY_DAYS"]),
            pades=PadesSource.from_config(config, instance),
        ),
        default_deadline=timedelta(seconds=config["CHECK_DEADLINE_SECONDS"]),
        jobs=CeleryJobEngine(app) if config.get("CELERY_BROKER_URL") else ThreadJobEngine(app),
    )
    app.extensions[EXTENSION_KEY] = runtime
    atexit.register(runtime.registry.close)  # adapters close their clients at shutdown
    return runtime


def start_jobs_once(app: Flask) -> None:
    """Start the app's job engine unless it runs already (on a serving process's first
    request; operator commands never serve, so they never start it)."""
    jobs = app.extensions[EXTENSION_KEY].jobs
    if not jobs.running:
        jobs.start()


def _verifier(app: Flask, keys: KeyStore) -> Verifier:
    """The read-only verification path's pool, keys and history buffer; disposing the app's
    engine closes them too (writing any buffered history first)."""
    with app.app_context():
        engine = db.engine
    reader = CertificateReader.for_database(engine.url.render_as_string(hide_password=False))
    history = HistoryBuffer(lambda: engine, interval=float(app.config["VERIFY_HISTORY_SECONDS"]))

    @event.listens_for(engine, "engine_disposed")
    def _closed(_engine: Engine) -> None:
        history.close()
        reader.dispose()

    return Verifier(
        reader=reader, keys=VerificationKeys(reader), history=history, macs=TokenMacKeys(keys)
    )


def runtime() -> Runtime:
    """The current app's runtime."""
    value: Runtime = current_app.extensions[EXTENSION_KEY]
    return value
