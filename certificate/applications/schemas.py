"""JSON bodies of the applications API, validated with pydantic.

The same models validate the HTML form (its fields are gathered into this
shape), so an error names the same field path on the page and in the API.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    StrictBool,
    StringConstraints,
    field_validator,
    model_validator,
)

from certificate.applications.latin import (
    NoReliableLatinForm,
    derive_latin_name,
    latin_form_problem,
)
from certificate.applications.names import safe_name
from certificate.db import utcnow
from certificate.i18n import codes
from certificate.web.schemas import FieldError, IsoDate, Strict
from country_adapters.countries import is_country_code

LANGUAGES = codes()
DOCUMENT_TYPES = ("passport", "national_id", "residence_permit")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _country(value: str) -> str:
    if not is_country_code(value):
        raise ValueError("is not an ISO 3166-1 alpha-2 country code (two capital letters, e.g. KE)")
    return value


CountryCode = Annotated[str, AfterValidator(_country)]
# The country count is bounded so that the signed token always fits the
# certificate's QR code; names are not, since the code carries their MRZ form
# and a digest (certificate/issuance/claims.py). A test holds the worst case.
MAX_COUNTRIES = 20
MAX_FAMILY_NAME = 100
MAX_GIVEN_NAMES = 200
# Names are stored in NFC and refused when they could hide another name
# (certificate/applications/names.py).
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_FAMILY_NAME),
    AfterValidator(safe_name),
]
LongName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_GIVEN_NAMES),
    AfterValidator(safe_name),
]


def _latin_form(value: str) -> str:
    problem = latin_form_problem(value)
    if problem:
        raise ValueError(problem)
    return value


LatinFamilyName = Annotated[Name, AfterValidator(_latin_form)]
LatinGivenNames = Annotated[LongName, AfterValidator(_latin_form)]
City = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(safe_name),
]


def _month(value: str) -> str:
    if not _MONTH.match(value):
        raise ValueError("must be a month written YYYY-MM")
    return value


Month = Annotated[str, AfterValidator(_month)]


class PlaceOfBirth(Strict):
    city: City
    country: CountryCode


class IdentityDocument(Strict):
    type: Literal["passport", "national_id", "residence_permit"]
    number: Annotated[
        str,
        StringConstraints(
            strip_whitespace=True,
            min_length=3,
            max_length=30,
            pattern=r"^[A-Za-z0-9][A-Za-z0-9 -]*$",
        ),
    ]
    issuing_country: CountryCode
    expires: IsoDate

    @field_validator("expires")
    @classmethod
    def _not_expired(cls, value: date) -> date:
        if value < utcnow().date():
            raise ValueError("the identity document has expired")
        return value


class LatinNameIn(Strict):
    """``applicant.latin_name``: the name as the identity document's MRZ writes it."""

    family_name: LatinFamilyName
    given_names: LatinGivenNames


class Applicant(Strict):
    family_name: Name
    given_names: LongName
    latin_name: LatinNameIn | None = None
    other_names: list[LongName] = Field(default_factory=list, max_length=10)
    date_of_birth: IsoDate
    place_of_birth: PlaceOfBirth
    nationalities: list[CountryCode] = Field(min_length=1, max_length=5)
    identity_document: IdentityDocument

    @field_validator("date_of_birth")
    @classmethod
    def _born_in_the_past(cls, value: date) -> date:
        today = utcnow().date()
        if value >= today:
            raise ValueError("must be in the past")
        if value.year < today.year - 120:
            raise ValueError("is more than 120 years ago")
        return value

    @model_validator(mode="after")
    def _has_a_latin_form(self) -> Applicant:
        """Derive the Latin form of a non-Latin name the applicant did not give one for."""
        if self.latin_name is not None:
            return self
        try:
            derived = derive_latin_name(self.family_name, self.given_names)
        except NoReliableLatinForm as exc:
            raise FieldError("latin_name", str(exc)) from exc
        if derived is not None:
            self.latin_name = LatinNameIn(
                family_name=derived.family_name, given_names=derived.given_names
            )
        return self

    @field_validator("nationalities")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("lists a country twice")
        return value


class ResidenceIn(Strict):
    country: CountryCode
    start: Month = Field(alias="from")
    end: Month | None = Field(alias="to", default=None)

    @model_validator(mode="after")
    def _ordered_and_past(self) -> ResidenceIn:
        this_month = utcnow().strftime("%Y-%m")
        if self.start > this_month:
            raise _field_error("from", "lies in the future")
        if self.end is not None:
            if self.end > this_month:
                raise _field_error("to", "lies in the future; leave it empty for 'until now'")
            if self.end < self.start:
                raise _field_error("to", "is before the period starts")
        return self


def _field_error(field: str, message: str) -> FieldError:
    return FieldError(field, message)


class ApplicationIn(Strict):
    """``POST /api/v1/applications``."""

    applicant: Applicant
    residences: list[ResidenceIn] = Field(min_length=1, max_length=40)
    language: Literal[LANGUAGES]  # type: ignore[valid-type]
    purpose: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=300)]
    consent: StrictBool  # the JSON value true: neither "true" nor 1 is a consent

    @field_validator("consent")
    @classmethod
    def _consent_given(cls, value: bool) -> bool:
        if value is not True:
            raise ValueError("must be true: the checks cannot run without the applicant's consent")
        return value

    @model_validator(mode="after")
    def _after_birth(self) -> ApplicationIn:
        born = self.applicant.date_of_birth.strftime("%Y-%m")
        for index, residence in enumerate(self.residences):
            if residence.start < born:
                raise FieldError(f"residences.{index}.from", "is before the date of birth")
        return self

    @model_validator(mode="after")
    def _fits_one_certificate(self) -> ApplicationIn:
        countries = {r.country for r in self.residences} | set(self.applicant.nationalities)
        if len(countries) > MAX_COUNTRIES:
            raise FieldError(
                "residences",
                f"names {len(countries)} countries; one certificate covers at most {MAX_COUNTRIES}",
            )
        return self


class CertificateOut(BaseModel):
    id: str
    status: Literal["valid", "revoked", "expired", "superseded"]
    issued_at: str
    expires_at: str
    pdf_url: str
    verify_url: str
    specimen: bool
    revocation_reason: str | None = None


class CheckOut(BaseModel):
    country: str
    status: Literal["queued", "sent", "answered", "no_response", "not_covered", "failed"]
    outcome: Literal["no_record", "record_found", "identity_unconfirmed"] | None
    authority: str | None
    deadline: str | None
    answered_at: str | None


class IdentityOut(BaseModel):
    """How far the proof of the applicant's identity has come (the code: owner only)."""

    status: Literal["pending", "confirmed", "refused"]
    code: str
    method: str | None
    vouched_by: str | None
    confirmed_at: str | None


class LatinNameOut(BaseModel):
    family_name: str
    given_names: str


class ApplicantOut(BaseModel):
    """The name as filed and its Latin form (given, or derived at filing; null for a name
    filed in Latin script without one)."""

    family_name: str
    given_names: str
    latin_name: LatinNameOut | None


class ApplicationOut(BaseModel):
    id: str
    status: Literal["awaiting_identity", "in_progress", "complete", "withdrawn", "identity_refused"]
    created_at: str
    language: str
    applicant: ApplicantOut
    identity: IdentityOut | None
    checks: list[CheckOut]
    certificate: CertificateOut | None


class ApplicationList(BaseModel):
    applications: list[ApplicationOut]
