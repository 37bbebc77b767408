"""The service's long-lived collaborators, built once per app and found through ``current_app``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

from certificate.config import adapter_settings
from certificate.issuance.service import IssuanceSettings
from certificate.signing.keys import FileKeyStore, KeyStore, PublicKeys
from certificate.storage import FileStore, LocalFileStore
from country_adapters.registry import AdapterRegistry, load_registry

if TYPE_CHECKING:
    from certificate.jobs import JobEngine

EXTENSION_KEY = "ipc"


@dataclass
class Runtime:
    """Adapters, keys, storage and the job engine of one app."""

    registry: AdapterRegistry
    keys: KeyStore
    public_keys: PublicKeys
    files: FileStore
    issuance: IssuanceSettings
    default_deadline: timedelta
    jobs: JobEngine


def build_runtime(app: Flask) -> Runtime:
    """Load adapters (failing loudly on a broken package) and open the stores."""
    from certificate.jobs import ThreadJobEngine

    config: dict[str, Any] = app.config
    instance = Path(app.instance_path)
    runtime = Runtime(
        registry=load_registry(adapter_settings(config)),
        keys=FileKeyStore(instance / "keys"),
        public_keys=PublicKeys(),
        files=LocalFileStore(instance / "certificates"),
        issuance=IssuanceSettings(
            base_url=config["BASE_URL"],
            issuer=str(config["ISSUER"]),
            validity=timedelta(days=config["CERTIFICATE_VALIDITY_DAYS"]),
        ),
        default_deadline=timedelta(seconds=config["CHECK_DEADLINE_SECONDS"]),
        jobs=ThreadJobEngine(app),
    )
    app.extensions[EXTENSION_KEY] = runtime
    return runtime


def runtime() -> Runtime:
    """The current app's runtime."""
    value: Runtime = current_app.extensions[EXTENSION_KEY]
    return value
