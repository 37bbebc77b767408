"""A problem with submitted input, in words people read beside the field."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the filing, to show beside its field and in the summary."""

    path: str
    message: str
    field_id: str | None
    label: str


_FRIENDLY = (
    (re.compile(r"^List should have at least 1 item"), "at least one is needed"),
    (re.compile(r"^List should have at most (\d+) items?"), r"at most \1 are accepted"),
    (re.compile(r"^Input should be a valid date"), "must be a real date (day, month and year)"),
    (re.compile(r"^String should match pattern"), "contains characters that are not accepted"),
    (re.compile(r"^Input should be '"), "is not one of the choices offered"),
    (
        re.compile(r"^String should have at most (\d+) characters?"),
        r"must be at most \1 characters",
    ),
    (
        re.compile(r"^String should have at least (\d+) characters?"),
        r"must be at least \1 characters",
    ),
)


def humanise(message: str) -> str:
    """pydantic's generic messages in plain words; the model's own messages are kept."""
    for pattern, replacement in _FRIENDLY:
        match = pattern.match(message)
        if match:
            return match.expand(replacement)
    return message
