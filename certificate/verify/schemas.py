"""Bodies of ``POST /api/v1/verify``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from certificate.web.schemas import IsoDate, Strict


class TokenVerification(Strict):
    token: str = Field(min_length=1, max_length=8000)
    #: Optional: the verifier's organisation, shown to the holder in their history.
    organisation: str | None = Field(default=None, max_length=200)


class NumberVerification(Strict):
    certificate_id: str = Field(min_length=1, max_length=100)
    date_of_birth: IsoDate
    organisation: str | None = Field(default=None, max_length=200)


class Summary(BaseModel):
    """Counts of the certificate's country outcomes; ``unconfirmed`` is identity
    unconfirmed, no answer by the deadline, or a failed check."""

    countries: int
    no_record: int
    record_found: int
    unconfirmed: int
    not_covered: int


class LatinNameOut(BaseModel):
    family_name: str
    given_names: str


class HolderOut(BaseModel):
    family_name: str
    given_names: str
    latin_name: LatinNameOut | None


class VerificationOut(BaseModel):
    valid: bool
    #: The document is genuine and in force (says nothing about records).
    authentic: bool
    status: Literal["valid", "revoked", "expired", "superseded", "invalid", "unknown"]
    reason: str
    #: What the certificate says; null when no claims are shown.
    summary: Summary | None
    #: The summary in words, in the language of ``Accept-Language``.
    summary_text: str | None = None
    certificate: dict[str, Any] | None
    #: The holder's full names as filed, with their Latin form, from the service's records
    #: (the signed claims carry the MRZ form ``n`` and the digest ``nd``); null when no
    #: claims are shown or the personal data has been purged.
    holder: HolderOut | None = None


class JsonWebKey(BaseModel):
    kty: str
    crv: str
    x: str
    kid: str
    alg: str
    use: str
    retired_at: str | None = None


class JsonWebKeySet(BaseModel):
    keys: list[JsonWebKey]
