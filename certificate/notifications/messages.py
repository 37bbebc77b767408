"""The e-mails the service sends, one per topic, in the recipient's language.

Every text is a catalogue message (marked with ``N_`` so the extractor finds
it) with ``%(name)s`` placeholders, translated when the message is written
to the outbox. Messages carry no record details and no identity data beyond
what the recipient already knows: a link, a certificate number, a status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from certificate.i18n import N_, gettext_in


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
    """``message`` in ``language`` (the service's catalogue) with ``values`` filled in."""
    return gettext_in(language, message, **values)


def render(topic: str, language: str, **values: Any) -> tuple[str, str]:
    """The subject and body of a ``topic`` message in ``language``."""
    template = TEMPLATES[topic]
    return translate(language, template.subject, **values), translate(
        language, template.body, **values
    )
