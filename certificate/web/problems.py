"""A problem with submitted input, in words people read beside the field."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext

from certificate.i18n import N_


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the filing, to show beside its field and in the summary."""

    path: str
    message: str
    field_id: str | None
    label: str


_FRIENDLY = (
    (re.compile(r"^List should have at least 1 item"), N_("at least one is needed")),
    (re.compile(r"^List should have at most (\d+) items?"), N_("at most %(n)s are accepted")),
    (
        re.compile(r"^Input should be a valid date"),
        N_("must be a real date (day, month and year)"),
    ),
    (re.compile(r"^String should match pattern"), N_("contains characters that are not accepted")),
    (re.compile(r"^Input should be '"), N_("is not one of the choices offered")),
    (
        re.compile(r"^String should have at most (\d+) characters?"),
        N_("must be at most %(n)s characters"),
    ),
    (
        re.compile(r"^String should have at least (\d+) characters?"),
        N_("must be at least %(n)s characters"),
    ),
)


def humanise(message: str) -> str:
    """pydantic's generic messages in plain words, and the model's own, in the page's language."""
    for pattern, replacement in _FRIENDLY:
        match = pattern.match(message)
        if match:
            return (
                gettext(replacement, n=match.group(1)) if match.groups() else gettext(replacement)
            )
    return gettext(message)
