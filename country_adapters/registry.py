"""Find country adapters through entry points, validate them, and index them by country.

The registry fails loudly: an entry point that cannot be imported, a provider
that raises, an adapter that does not implement the Protocol, serves a
different country than its name says, or claims a country another package
already serves, all stop the service from starting, with the package named.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from country_adapters.base import ADAPTER_API_VERSION, CountryAdapter
from country_adapters.countries import is_country_code

ENTRY_POINT_GROUP = "ipc.country_adapters"
_PROVIDER_NAME = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
_REQUIRED = ("api_version", "country", "authority", "deadline", "pollable", "specimen")


class AdapterLoadError(RuntimeError):
    """An adapter package is broken; the message names the package."""


@dataclass(frozen=True)
class LoadedAdapter:
    """An adapter together with where it came from."""

    adapter: CountryAdapter
    source: str  # "entry-point-name = module:attr (distribution version)"


def _describe(ep: EntryPoint) -> str:
    dist = ep.dist
    where = f"{dist.name} {dist.version}" if dist is not None else "unknown distribution"
    return f"{ep.name} = {ep.value} ({where})"


def validate_adapter(adapter: object, source: str) -> CountryAdapter:
    """Check that ``adapter`` implements the Protocol; raise AdapterLoadError naming ``source``."""
    missing = [name for name in _REQUIRED if not hasattr(adapter, name)]
    missing += [m for m in ("submit", "poll") if not callable(getattr(adapter, m, None))]
    if missing:
        raise AdapterLoadError(f"adapter from {source} lacks {', '.join(missing)}")
    if not isinstance(adapter, CountryAdapter):  # pragma: no cover - covered by the lines above
        raise AdapterLoadError(f"adapter from {source} does not implement CountryAdapter")
    if adapter.api_version != ADAPTER_API_VERSION:
        raise AdapterLoadError(
            f"adapter from {source} implements adapter API {adapter.api_version!r}, "
            f"this service speaks {ADAPTER_API_VERSION}"
        )
    if not isinstance(adapter.country, str) or not is_country_code(adapter.country):
        raise AdapterLoadError(
            f"adapter from {source} serves {adapter.country!r}, not an ISO 3166-1 alpha-2 code"
        )
    return adapter


class AdapterRegistry:
    """The adapters this service uses, one per country."""

    def __init__(self, adapters: Iterable[LoadedAdapter] = ()) -> None:
        self._by_country: dict[str, LoadedAdapter] = {}
        for loaded in adapters:
            self.add(loaded)

    def add(self, loaded: LoadedAdapter) -> None:
        """Register one adapter; two adapters for one country is an error."""
        country = loaded.adapter.country
        if country in self._by_country:
            raise AdapterLoadError(
                f"{country} is served twice: by {self._by_country[country].source} "
                f"and by {loaded.source}"
            )
        self._by_country[country] = loaded

    def get(self, country: str) -> CountryAdapter | None:
        """The adapter serving ``country``, or None when the country is not covered."""
        loaded = self._by_country.get(country)
        return loaded.adapter if loaded else None

    def countries(self) -> list[str]:
        """The countries served, sorted."""
        return sorted(self._by_country)

    def sources(self) -> dict[str, str]:
        """Country code → where its adapter came from, for operators."""
        return {c: self._by_country[c].source for c in self.countries()}


def load_registry(settings: Mapping[str, Any], group: str = ENTRY_POINT_GROUP) -> AdapterRegistry:
    """Discover every installed adapter package and build the registry.

    Entry points are processed in name order so that errors are reproducible.
    """
    registry = AdapterRegistry()
    for ep in sorted(entry_points(group=group), key=lambda e: (e.name, e.value)):
        source = _describe(ep)
        if not (is_country_code(ep.name) or _PROVIDER_NAME.match(ep.name)):
            raise AdapterLoadError(
                f"entry point {source}: the name must be an ISO 3166-1 alpha-2 code "
                "or a lower-case provider name"
            )
        try:
            provider = ep.load()
            produced = list(provider(settings))
        except Exception as exc:
            raise AdapterLoadError(f"entry point {source} failed to load: {exc!r}") from exc
        for adapter in produced:
            checked = validate_adapter(adapter, source)
            if is_country_code(ep.name) and checked.country != ep.name:
                raise AdapterLoadError(
                    f"entry point {source} is named {ep.name} but serves {checked.country}"
                )
            registry.add(LoadedAdapter(checked, source))
    return registry
