"""JSON bodies of the identity API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from certificate.applications.schemas import CountryCode


class DocumentSeenIn(BaseModel):
    """One identity document the ID checker held in their hands."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=1, max_length=30)
    number: str = Field(min_length=1, max_length=40)
    issuing_country: CountryCode


class IdentityCheckIn(BaseModel):
    """``POST /api/v1/identity-checks``: what an ID checker saw and decided."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=20)
    decision: Literal["confirmed", "refused"]
    documents_seen: list[DocumentSeenIn] = Field(default_factory=list, max_length=5)


class IdentityCheckOut(BaseModel):
    """The recorded decision (nothing of the application's personal data)."""

    code: str
    status: Literal["confirmed", "refused"]
    method: str
    organisation: str
    decided_at: str
