"""Identity verifiers: the pluggable part of identity proofing (interface version 1).

A verifier looks at *evidence* about a person (documents an ID checker saw,
claims an eID provider vouched for, a sandbox rule) and decides whether it
matches the identity an application states. It never touches the database or
the web layer: :mod:`certificate.identity.service` stores what it decides.

Verifiers are found like country adapters: built-in ones, and installed
packages that declare an entry point in the group ``ipc.identity_verifiers``
whose name is the method (``[project.entry-points."ipc.identity_verifiers"]
mybankid = "mypackage:provide"``). The entry point is a callable that takes
the verifier's own settings (``IPC_IDENTITY_<NAME>_*`` with the prefix
removed) and returns an :class:`IdentityVerifier`. See docs/identity.md.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

ENTRY_POINT_GROUP = "ipc.identity_verifiers"
#: Longest name of whoever vouches for an identity (an organisation's or a
#: provider's short name), in UTF-8 bytes: it is printed on the certificate's identity line.
MAX_VOUCHER_BYTES = 32


def voucher_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be printed as who vouched for an identity, or None when it can."""
    if not name.strip():
        return "is required"
    if len(name.encode()) > MAX_VOUCHER_BYTES:
        return f"must be at most {MAX_VOUCHER_BYTES} bytes in UTF-8 (it is printed on every certificate)"
    return None


@dataclass(frozen=True)
class DocumentSeen:
    """An identity document as someone saw it (type, number, issuing country)."""

    type: str
    number: str
    issuing_country: str


@dataclass(frozen=True)
class StatedIdentity:
    """Who an application says the person is: what every verifier compares against.

    ``latin_family_name`` and ``latin_given_names``: the name as the identity
    document's machine-readable zone writes it, when the application states
    one apart from the name as filed (None otherwise).
    """

    family_name: str
    given_names: str
    date_of_birth: date
    document: DocumentSeen
    latin_family_name: str | None = None
    latin_given_names: str | None = None

    def name_forms(self) -> list[tuple[str, str]]:
        """(family name, given names) as filed, then in Latin letters when stated apart."""
        forms = [(self.family_name, self.given_names)]
        if self.latin_family_name is not None:
            forms.append((self.latin_family_name, self.latin_given_names or ""))
        return forms


@dataclass(frozen=True)
class Decision:
    """A verifier's answer.

    ``confirmed``: the evidence matches. ``vouched_by``: who stands behind it
    (an organisation, a provider), printed on the certificate. ``reason``: a
    sentence for the audit log and the person, never personal data.
    """

    confirmed: bool
    reason: str
    vouched_by: str | None = None


class EvidenceMismatch(Exception):
    """The evidence contradicts the stated identity in a way the caller must correct.

    ``field`` names what does not match (``documents_seen``, ``birthdate``...).
    Unlike a refusal, nothing is stored: an ID checker who mistyped a number
    tries again.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@runtime_checkable
class IdentityVerifier(Protocol):
    """What an identity verifier package provides (interface version 1)."""

    #: The method name stored with the proof and printed on the certificate
    #: (``in_person``, ``oidc``, ``sandbox``, or a package's own).
    method: str

    def verify(self, stated: StatedIdentity, evidence: Mapping[str, Any]) -> Decision:
        """Compare ``evidence`` with ``stated``.

        Returns a :class:`Decision`; raises :class:`EvidenceMismatch` when the
        evidence is about someone or something else and should be corrected
        rather than recorded as a refusal.
        """
        ...


def same_text(a: str, b: str) -> bool:
    """Names and numbers compare case-, accent-width- and space-insensitively (NFKC, casefold)."""

    def fold(value: str) -> str:
        return " ".join(unicodedata.normalize("NFKC", value).casefold().split())

    return fold(a) == fold(b)


def same_document_number(a: str, b: str) -> bool:
    """Document numbers compare without spaces, hyphens or case."""

    def fold(value: str) -> str:
        return "".join(ch for ch in value.upper() if ch.isalnum())

    return fold(a) == fold(b)


class SandboxVerifier:
    """For demos and tests: every identity is confirmed, but ``IMPOSTOR...`` is refused."""

    method = "sandbox"

    def verify(self, stated: StatedIdentity, evidence: Mapping[str, Any]) -> Decision:
        """Confirm at once, unless the family name starts with IMPOSTOR."""
        if stated.family_name.upper().startswith("IMPOSTOR"):
            return Decision(False, "The sandbox refuses every family name starting IMPOSTOR.")
        return Decision(True, "Confirmed by the sandbox (no real proof of identity).")


class InPersonVerifier:
    """An ID checker of a registered organisation saw the person and their documents.

    Evidence: ``{"decision": "confirmed" | "refused", "documents_seen":
    [DocumentSeen, ...], "organisation": name}``. Every document seen of the
    application's type and issuing country must carry its number; a seen
    document that contradicts the stated one raises EvidenceMismatch.
    """

    method = "in_person"

    def verify(self, stated: StatedIdentity, evidence: Mapping[str, Any]) -> Decision:
        """Check the documents against the application, then take the checker's decision."""
        documents: list[DocumentSeen] = list(evidence.get("documents_seen") or [])
        organisation = str(evidence.get("organisation") or "")
        if evidence.get("decision") == "refused":
            return Decision(False, "The ID checker refused the identity.", organisation)
        if not documents:
            raise EvidenceMismatch("documents_seen", "name at least the document you saw")
        expected = stated.document
        matching = [
            d
            for d in documents
            if same_text(d.type, expected.type)
            and d.issuing_country.upper() == expected.issuing_country.upper()
        ]
        if not matching:
            raise EvidenceMismatch(
                "documents_seen",
                "none of the documents seen is the application's identity document "
                f"({expected.type} issued by {expected.issuing_country})",
            )
        if not all(same_document_number(d.number, expected.number) for d in matching):
            raise EvidenceMismatch(
                "documents_seen", "the document number does not match the application's"
            )
        return Decision(True, "Confirmed in person by an ID checker.", organisation)


class OidcVerifier:
    """An OpenID Connect identity provider the operator trusts vouched for the person.

    Evidence: ``{"claims": the ID token's claims, already checked (signature,
    issuer, audience, nonce, times: :mod:`certificate.identity.oidc`),
    "provider": the provider's label}``. Its ``family_name``, ``given_name`` and
    ``birthdate`` must all match the application (names as :func:`same_text`
    compares them, as filed or in their Latin form); when the token carries OpenID Connect for Identity
    Assurance ``verified_claims``, those are the claims compared. A claim
    missing or different raises EvidenceMismatch naming every such claim: the
    application keeps waiting, and can still be confirmed in person.
    """

    method = "oidc"

    def verify(self, stated: StatedIdentity, evidence: Mapping[str, Any]) -> Decision:
        """Compare the provider's claims with the application; EvidenceMismatch when they differ."""
        claims = vouched_claims(evidence.get("claims") or {})
        provider = str(evidence.get("provider") or "")
        family, given = claims.get("family_name"), claims.get("given_name")
        # the name as filed, or as the document's machine-readable zone writes it: a provider
        # may state either, but both parts of the name in the same form
        forms = stated.name_forms()
        different = []
        if not isinstance(family, str) or not any(same_text(family, f) for f, _ in forms):
            different.append("family_name")
        elif not isinstance(given, str) or not any(
            same_text(family, f) and same_text(given, g) for f, g in forms
        ):
            different.append("given_name")
        if claims.get("birthdate") != stated.date_of_birth.isoformat():
            different.append("birthdate")
        if different:
            raise EvidenceMismatch(
                ",".join(different),
                "the identity provider does not state the same "
                + ", ".join(different)
                + " as the application",
            )
        return Decision(True, "Confirmed by an OpenID Connect identity provider.", provider)


def vouched_claims(claims: Mapping[str, Any]) -> Mapping[str, Any]:
    """The claims a provider vouches for: ``verified_claims.claims`` when present, else the token's.

    OpenID Connect for Identity Assurance puts what the provider verified
    against evidence under ``verified_claims`` (an object, or a list of them);
    a plain provider states its claims at the top level.
    """
    verified = claims.get("verified_claims")
    blocks = verified if isinstance(verified, list) else [verified] if verified else []
    merged: dict[str, Any] = {}
    for block in blocks:
        if isinstance(block, Mapping) and isinstance(block.get("claims"), Mapping):
            merged.update(block["claims"])
    return merged if blocks else claims


VerifierFactory = Callable[[Mapping[str, Any]], IdentityVerifier]


class VerifierError(RuntimeError):
    """An installed verifier package is broken; the message names it."""


def load_verifiers(config: Mapping[str, Any]) -> dict[str, IdentityVerifier]:
    """The built-in verifiers and every installed package's, by method name.

    Each package receives only its own settings (``IDENTITY_<NAME>_*``).
    A package that fails to load, or returns something that is not an
    IdentityVerifier, stops the service with its name in the message.
    """
    verifiers: dict[str, IdentityVerifier] = {
        "sandbox": SandboxVerifier(),
        "in_person": InPersonVerifier(),
        "oidc": OidcVerifier(),
    }
    for point in entry_points(group=ENTRY_POINT_GROUP):
        prefix = f"IDENTITY_{point.name.upper()}_"
        own = {k.removeprefix(prefix): v for k, v in config.items() if k.startswith(prefix)}
        try:
            factory: VerifierFactory = point.load()
            verifier = factory(own)
        except Exception as exc:
            raise VerifierError(
                f"identity verifier {point.name!r} ({point.value}) failed to load: {exc}"
            ) from exc
        if not isinstance(verifier, IdentityVerifier):
            raise VerifierError(
                f"identity verifier {point.name!r} ({point.value}) does not provide "
                "'method' and 'verify' (see docs/identity.md)"
            )
        verifiers[verifier.method] = verifier
    return verifiers
