"""The one registry of who answers for each country.

Two kinds of source serve countries:

* **installed packages**, found through entry points when the service
  starts; each provider receives only its own settings namespace;
* **other sources** added at run time with :meth:`AdapterRegistry.add_source`
  (the service adds the agencies registered in its database this way).

Precedence is explicit: sources are asked in ascending ``precedence``;
installed packages sit at :data:`PACKAGE_PRECEDENCE` (100). The service's
database agencies use precedence 10, so an enabled agency answers for its
country before any package, and a disabled one hands the country back.

Loading fails loudly: an entry point that cannot be imported, a provider
that raises, an adapter that does not implement the Protocol, serves a
different country than its name says, or claims a country another package
already serves, all stop the service from starting, with the package named.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from types import MappingProxyType
from typing import Any, Protocol

from country_adapters.base import ADAPTER_API_VERSION, CountryAdapter
from country_adapters.countries import is_country_code

ENTRY_POINT_GROUP = "ipc.country_adapters"
_PROVIDER_NAME = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
_REQUIRED = ("api_version", "country", "authority", "deadline", "pollable", "specimen")
PACKAGE_PRECEDENCE = 100
# The built-in sandbox keeps the variables it had before namespaces existed.
V1_NAMESPACES = {"sandbox": "SANDBOX_"}

log = logging.getLogger(__name__)


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


def settings_namespace(entry_point_name: str) -> str:
    """The settings prefix of a provider: ``ADAPTER_<NAME>_`` (``IPC_`` already removed)."""
    return V1_NAMESPACES.get(entry_point_name, f"ADAPTER_{entry_point_name.upper()}_")


def provider_settings(config: Mapping[str, Any], entry_point_name: str) -> Mapping[str, Any]:
    """The only settings a provider receives: its namespace, with the prefix removed.

    ``IPC_ADAPTER_NZ_TOKEN`` reaches the ``NZ`` provider as ``TOKEN`` (secrets
    included); nothing outside the namespace reaches any provider.
    """
    prefix = settings_namespace(entry_point_name)
    own = {k[len(prefix) :]: v for k, v in config.items() if k.startswith(prefix) and k != prefix}
    return MappingProxyType(own)


@dataclass(frozen=True)
class Coverage:
    """One served country, for operators: who serves it and where that came from."""

    country: str
    served_by: str
    source: str


class CountrySource(Protocol):
    """Serves countries decided at run time (the service's database agencies)."""

    def served(self) -> list[Coverage]:
        """Every country this source serves now."""
        ...

    def adapter(self, country: str) -> CountryAdapter | None:
        """The adapter for ``country``, or None when this source does not serve it."""
        ...


class AdapterRegistry:
    """Who answers for each country: installed packages and the sources added to them."""

    def __init__(self, adapters: Iterable[LoadedAdapter] = ()) -> None:
        self._by_country: dict[str, LoadedAdapter] = {}
        self._sources: list[tuple[int, CountrySource]] = []
        for loaded in adapters:
            self.add(loaded)

    def add_source(self, source: CountrySource, precedence: int) -> None:
        """Ask ``source`` before every source (and the packages) of higher precedence."""
        if precedence == PACKAGE_PRECEDENCE:
            raise ValueError(f"precedence {PACKAGE_PRECEDENCE} belongs to installed packages")
        self._sources.append((precedence, source))
        self._sources.sort(key=lambda item: item[0])

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
        """The adapter serving ``country`` by precedence, or None when nothing serves it."""
        for precedence, source in self._sources:
            if precedence > PACKAGE_PRECEDENCE:
                break
            found = source.adapter(country)
            if found is not None:
                return found
        loaded = self._by_country.get(country)
        if loaded is not None:
            return loaded.adapter
        for precedence, source in self._sources:
            if precedence > PACKAGE_PRECEDENCE:
                found = source.adapter(country)
                if found is not None:
                    return found
        return None

    def coverage(self) -> list[Coverage]:
        """One line per served country, by the source that wins its precedence."""
        ranked: list[tuple[int, list[Coverage]]] = [
            (precedence, source.served()) for precedence, source in self._sources
        ]
        ranked.append(
            (
                PACKAGE_PRECEDENCE,
                [
                    Coverage(c, _package_of(loaded.source), loaded.source)
                    for c, loaded in self._by_country.items()
                ],
            )
        )
        winners: dict[str, Coverage] = {}
        for _, lines in sorted(ranked, key=lambda item: item[0]):
            for line in lines:
                winners.setdefault(line.country, line)
        return [winners[c] for c in sorted(winners)]

    def countries(self) -> list[str]:
        """The countries served now, sorted."""
        return [line.country for line in self.coverage()]

    def sources(self) -> dict[str, str]:
        """Country code → where its adapter came from, for operators."""
        return {line.country: line.source for line in self.coverage()}

    def close(self) -> None:
        """Let every installed adapter close its clients (its optional ``close()``)."""
        for loaded in self._by_country.values():
            closer = getattr(loaded.adapter, "close", None)
            if callable(closer):
                try:
                    closer()
                except Exception:
                    log.exception("adapter for %s failed to close", loaded.adapter.country)


def _package_of(source: str) -> str:
    """``"KE = mod:attr (ipc-ke 1.2)"`` → ``"package ipc-ke 1.2"``."""
    if source.endswith(")") and "(" in source:
        return "package " + source[source.rindex("(") + 1 : -1]
    return "package"


def load_registry(config: Mapping[str, Any], group: str = ENTRY_POINT_GROUP) -> AdapterRegistry:
    """Discover every installed adapter package and build the registry.

    ``config`` is the service's whole configuration (without the ``IPC_``
    prefix); each provider is handed only :func:`provider_settings` of it.
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
            produced = list(provider(provider_settings(config, ep.name)))
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
