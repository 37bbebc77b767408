"""JSON bodies of the accounts and tokens endpoints."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, EmailStr, StringConstraints

from certificate.web.schemas import Strict


class AccountIn(Strict):
    email: EmailStr
    password: Annotated[str, StringConstraints(min_length=10, max_length=200)]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class AccountOut(BaseModel):
    id: str
    email: str


class TokenIn(Strict):
    email: Annotated[str, StringConstraints(min_length=1, max_length=254)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    # officers and admins also send the current code of their authenticator app
    code: Annotated[str, StringConstraints(pattern=r"^\d{6}$")] | None = None


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
