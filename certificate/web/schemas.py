"""What every JSON request schema shares: strictness, dates as text, field-level errors."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict

_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _iso_date_text(value: object) -> object:
    # pydantic's lax date parsing also takes timestamps and datetimes at midnight
    # ("1990-04-17T00:00:00"); a date of birth is a calendar date and nothing else.
    if isinstance(value, datetime) or not isinstance(value, str | date):
        raise ValueError("must be a date written YYYY-MM-DD")
    if isinstance(value, str) and not _ISO_DATE.match(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date_text)]
"""A date given as ``YYYY-MM-DD`` text (no timestamps, no datetimes)."""


class Strict(BaseModel):
    """Unknown fields are refused, so a client cannot set what it does not own."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class FieldError(ValueError):
    """A model-level check that belongs to one field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
