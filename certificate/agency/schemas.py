"""Response bodies of the agency API (the request body is
:class:`country_adapters.documents.AnswerIn`, shared with the push adapter)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel


class AgencyQuery(BaseModel):
    id: str
    country: str
    subject: dict[str, Any]
    requested_at: str
    deadline: str


class AgencyQueryList(BaseModel):
    queries: list[AgencyQuery]


class AgencyAnswerOut(BaseModel):
    id: str
    status: Literal["answered"]
    outcome: Literal["no_record", "record_found", "identity_unconfirmed"]
