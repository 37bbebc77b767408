"""Country adapters: how each national record agency is asked about a person.

The core service talks to every agency through the small Protocol in
:mod:`country_adapters.base`; adapters are found through the entry-point
group ``ipc.country_adapters`` (see :mod:`country_adapters.registry`).
"""

from country_adapters.base import (
    ADAPTER_API_VERSION,
    AdapterError,
    Answer,
    CountryAdapter,
    Outcome,
    Pending,
    Query,
    Record,
    ResidencePeriod,
    Subject,
)

__all__ = [
    "ADAPTER_API_VERSION",
    "AdapterError",
    "Answer",
    "CountryAdapter",
    "Outcome",
    "Pending",
    "Query",
    "Record",
    "ResidencePeriod",
    "Subject",
]
