"""The adapter for agencies that answer through the service: officers in the portal, or
the agency's own system through the agency API.

Submitting only makes the query visible to the agency (the check becomes
``sent``); the answer arrives later through the portal or the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from country_adapters.base import ADAPTER_API_VERSION, Answer, Pending, Query


@dataclass(frozen=True)
class InboxAdapter:
    """Queries wait in the agency's inbox until its officers or its system answer."""

    country: str
    authority: str
    deadline: timedelta | None
    api_version: int = ADAPTER_API_VERSION
    pollable: bool = False
    specimen: bool = False

    def submit(self, query: Query) -> Answer | Pending:
        """The query is now open for the agency."""
        return Pending()

    def poll(self, query: Query) -> Answer | Pending:
        """Never polled: answers come through the portal or the agency API."""
        return Pending()
