"""JSON bodies of the organisations API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ApiKeyIn(BaseModel):
    """``POST /api/v1/organisations/{id}/api-keys`` (the body is optional)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=100)


class ApiKeyOut(BaseModel):
    """A new key, shown this once."""

    id: str
    key: str
