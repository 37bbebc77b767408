"""JSON bodies of the organisations API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field


class ApiKeyIn(BaseModel):
    """``POST /api/v1/organisations/{id}/api-keys`` (the body is optional)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=100)


class ApiKeyOut(BaseModel):
    """A new key, shown this once."""

    id: str
    key: str


class RequestIn(BaseModel):
    """``POST /api/v1/requests``: ask a candidate by e-mail."""

    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    purpose: str = Field(min_length=1, max_length=500)
    language: str = Field(default="en", min_length=2, max_length=16)


class RequestCreated(BaseModel):
    """The new request and the link the candidate was sent."""

    id: str
    link: str


class ShareIn(BaseModel):
    """``POST /api/v1/requests/{id}/share``: which of the candidate's applications."""

    model_config = ConfigDict(extra="forbid")

    application_id: str = Field(min_length=1, max_length=64)


class RequestOut(BaseModel):
    """One request as its organisation sees it; ``certificate`` only while shared."""

    id: str
    email: str
    purpose: str
    status: Literal["sent", "shared", "stopped"]
    certificate: dict[str, Any] | None


class RequestList(BaseModel):
    """The organisation's requests."""

    requests: list[RequestOut]


class WebhookIn(BaseModel):
    """``POST /api/v1/webhooks``."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2000)
    events: list[str] = Field(min_length=1, max_length=10)


class WebhookCreated(BaseModel):
    """The endpoint's id and its signing secret, shown once."""

    id: str
    secret: str


MAX_BATCH = 1000


class BatchIn(BaseModel):
    """``POST /api/v1/verify/batch``: up to 1,000 tokens or typed numbers, answered in order."""

    model_config = ConfigDict(extra="forbid")

    items: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_BATCH)


class BatchOut(BaseModel):
    """One verification answer per item, in the order sent."""

    results: list[dict[str, Any]]
