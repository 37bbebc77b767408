"""Identity before any agency is asked: proofing state, verifiers, ID checks."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask, current_app

from certificate.identity.verifiers import IdentityVerifier, load_verifiers

EXTENSION_KEY = "ipc.identity"


def init_app(app: Flask) -> None:
    """Load the identity verifiers (a broken package stops the start, naming it)."""
    app.extensions[EXTENSION_KEY] = load_verifiers(app.config)


def verifiers() -> Mapping[str, IdentityVerifier]:
    """The current app's identity verifiers, by method."""
    found: Mapping[str, IdentityVerifier] = current_app.extensions[EXTENSION_KEY]
    return found


def proofing_mode() -> str:
    """``required`` or ``sandbox`` (``IPC_IDENTITY_PROOFING``)."""
    return str(current_app.config["IDENTITY_PROOFING"])
