"""Bodies of ``POST /api/v1/verify``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from certificate.applications.schemas import IsoDate, Strict


class TokenVerification(Strict):
    token: str = Field(min_length=1, max_length=8000)
    #: Optional: the verifier's organisation, shown to the holder in their history.
    organisation: str | None = Field(default=None, max_length=200)


class NumberVerification(Strict):
    certificate_id: str = Field(min_length=1, max_length=100)
    date_of_birth: IsoDate
    organisation: str | None = Field(default=None, max_length=200)


class VerificationOut(BaseModel):
    valid: bool
    status: Literal["valid", "revoked", "expired", "superseded", "invalid", "unknown"]
    reason: str
    certificate: dict[str, Any] | None


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
