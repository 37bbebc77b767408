"""The e-mails the service sends, one per topic, in the recipient's language.

Every text is a catalogue message (marked with ``N_`` so the extractor finds
it) with ``%(name)s`` placeholders, translated when the message is written
to the outbox. Messages carry no record details and no identity data beyond
what the recipient already knows: a link, a certificate number, a status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def N_(message: str) -> str:  # noqa: N802 - the gettext convention the extractor knows
    """Mark ``message`` for the catalogue; it is translated when used."""
    return message


@dataclass(frozen=True)
class Template:
    """A subject and a body, each a catalogue message with placeholders."""

    subject: str
    body: str


TEMPLATES: dict[str, Template] = {
    "email_verification": Template(
        N_("Confirm your e-mail address"),
        N_(
            "Hello,\n\nPlease confirm that this is your e-mail address by opening this link:\n\n"
            "%(link)s\n\nNo agency is asked anything about you until you do. If you did not "
            "create an account with the International Police Certificate service, ignore "
            "this message."
        ),
    ),
    "candidate_request": Template(
        N_("%(organisation)s asks you for an International Police Certificate"),
        N_(
            "Hello,\n\n%(organisation)s asks you for an International Police Certificate, "
            "for this purpose: %(purpose)s\n\nOpen this link to sign in (or create an "
            "account), apply or choose a certificate you already have, and decide whether "
            "to share it:\n\n%(link)s\n\nNothing is shared without your consent, and you can "
            "stop sharing at any time."
        ),
    ),
    "certificate_issued": Template(
        N_("Your International Police Certificate is ready"),
        N_(
            "Hello,\n\nYour certificate %(certificate)s has been issued. Sign in to download "
            "it:\n\n%(link)s"
        ),
    ),
    "officer_question": Template(
        N_("An agency has a question about your application"),
        N_(
            "Hello,\n\nAn officer of a national agency needs more information to answer for "
            "your application. Sign in to read the question and reply; the agency's "
            "deadline is paused until you do:\n\n%(link)s"
        ),
    ),
    "certificate_revoked": Template(
        N_("Your International Police Certificate has been revoked"),
        N_(
            "Hello,\n\nYour certificate %(certificate)s has been revoked and no longer "
            "verifies as valid. Sign in to see why:\n\n%(link)s"
        ),
    ),
    "new_query": Template(
        N_("A new query awaits your agency"),
        N_(
            "Hello,\n\nA new query for %(country)s is open in the portal. Sign in to answer "
            "it before its deadline:\n\n%(link)s"
        ),
    ),
}


def translate(language: str, message: str, **values: Any) -> str:
    """``message`` in ``language`` with ``values`` filled in.

    Uses the service's catalogues when they are installed; otherwise the
    English source.
    """
    try:
        from certificate.i18n import gettext_in  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return message % values if values else message
    text: str = gettext_in(language, message, **values)
    return text


def request_language() -> str:
    """The language of the current request (its catalogue's choice when installed), else English."""
    try:
        from certificate.i18n import current_language  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return "en"
    code: str = current_language()
    return code


def render(topic: str, language: str, **values: Any) -> tuple[str, str]:
    """The subject and body of a ``topic`` message in ``language``."""
    template = TEMPLATES[topic]
    return translate(language, template.subject, **values), translate(
        language, template.body, **values
    )
