"""Which countries the service can ask, and the ones the operator requires."""

from __future__ import annotations

from flask import Flask

from certificate.config import ConfigError
from certificate.runtime import EXTENSION_KEY
from country_adapters.registry import AdapterRegistry


def unserved(registry: AdapterRegistry, required: list[str]) -> list[str]:
    """The required countries that nothing serves, sorted."""
    served = set(registry.countries())
    return sorted(set(required) - served)


def unserved_message(missing: list[str]) -> str:
    """One sentence naming every unserved required country."""
    return (
        f"IPC_REQUIRED_COUNTRIES lists {', '.join(missing)}, which no installed adapter "
        "package or enabled agency serves"
    )


def require_countries(app: Flask) -> None:
    """Stop start-up naming each country of ``IPC_REQUIRED_COUNTRIES`` that nothing serves.

    Only ``flask adapters list`` starts anyway, so that an operator can see
    what is served; it then exits non-zero.
    """
    required: list[str] = app.config["REQUIRED_COUNTRIES"]
    if not required:
        return
    with app.app_context():
        missing = unserved(app.extensions[EXTENSION_KEY].registry, required)
    if missing and not _listing_adapters():
        raise ConfigError(unserved_message(missing))


def _listing_adapters() -> bool:
    import sys

    arguments = [a for a in sys.argv[1:] if not a.startswith("-")]
    return arguments[-2:] == ["adapters", "list"]
