"""What a certificate's PDF shows, independent of how it is rendered.

The issuance service builds a :class:`CertificateDocument` from the stored
application, its checks and the signed token; :mod:`certificate.issuance.pdf`
turns it into pages. Keeping the two apart lets the renderer be tested on
plain data and keeps database types out of the layout code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class RecordLine:
    """One conviction record as the national agency reported it."""

    offence: str
    category: str
    date: str
    court: str
    sentence: str


@dataclass(frozen=True)
class CountryLine:
    """What one country's authority answered, and for which periods.

    ``outcome`` is one of ``no_record``, ``record_found``,
    ``identity_unconfirmed``, ``no_response`` (the agency did not answer by
    its deadline) or ``not_covered`` (no participating authority).
    ``periods`` are the applicant's declared periods of residence in that
    country as ``(from, to)`` pairs of ``YYYY-MM`` strings, ``to`` being
    ``None`` for "until now"; empty when the country is checked only as a
    nationality.
    """

    country: str  # ISO 3166-1 alpha-2
    country_name: str
    outcome: str
    answered_on: date | None
    authority: str
    periods: tuple[tuple[str, str | None], ...] = ()
    records: tuple[RecordLine, ...] = ()
    reference: str | None = None


@dataclass(frozen=True)
class UncoveredLine:
    """A declared residence period that no definitive answer covers (see issuance/coverage.py)."""

    country: str
    country_name: str
    start: str  # YYYY-MM
    end: str | None  # None: until the date of issue
    outcome: str  # no_response | not_covered | identity_unconfirmed


@dataclass(frozen=True)
class CertificateDocument:
    """Everything printed on one certificate."""

    certificate_id: str
    language: str  # en | fr | es | ar
    family_name: str
    given_names: str
    other_names: tuple[str, ...]
    date_of_birth: date
    place_of_birth: str
    nationalities: tuple[str, ...]
    document_type: str
    document_number: str
    document_issuing_country: str
    purpose: str
    issued_on: date
    expires_on: date
    countries: tuple[CountryLine, ...]
    verify_url: str  # the full QR content: {base_url}/v#{token}
    base_url: str
    specimen: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: One line per uncovered residence period, printed under the countries.
    uncovered: tuple[UncoveredLine, ...] = ()
    #: Distinct months of declared residence without a definitive answer (claim ``gap``).
    gap_months: int = 0
    #: The name as the identity document's machine-readable zone writes it, printed beside
    #: the name as filed; empty for a name filed in Latin script without one.
    latin_name: str = ""
