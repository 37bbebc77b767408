"""Words for the service's enumerations, from the catalogue, keyed by the enum's value.

The English here is the catalogue's source; each language's words come from
its catalogue when shown (:func:`word`).
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import gettext

from certificate.i18n.catalogue import N_, gettext_in

#: A check's state (checks.models.CheckStatus), in a word or two.
CHECK_STATUSES: Mapping[str, str] = {
    "queued": N_("queued"),
    "sent": N_("sent"),
    "answered": N_("answered"),
    "no_response": N_("no response"),
    "not_covered": N_("not covered"),
    "failed": N_("failed"),
}

#: A certificate's status (valid, revoked, expired, superseded).
CERTIFICATE_STATUSES: Mapping[str, str] = {
    "valid": N_("Valid"),
    "revoked": N_("Revoked"),
    "expired": N_("Expired"),
    "superseded": N_("Superseded"),
}

#: Identity documents an applicant may file (applications.schemas.DOCUMENT_TYPES).
DOCUMENT_TYPES: Mapping[str, str] = {
    "passport": N_("Passport"),
    "national_id": N_("National identity card"),
    "residence_permit": N_("Residence permit"),
}


def word(table: Mapping[str, str], value: str, language: str | None = None) -> str:
    """``value``'s word from ``table``, in ``language`` or the current one (the value if unknown)."""
    english = table.get(value)
    if english is None:
        return value
    return gettext_in(language, english) if language else gettext(english)
