"""Identity before any agency is asked: proofing state, verifiers, ID checks."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from flask import Flask, current_app

from certificate.auth.models import User
from certificate.config import ConfigError
from certificate.db import DbSession
from certificate.events import subscribe
from certificate.i18n import current_language
from certificate.identity.email_check import send_email_check
from certificate.identity.oidc import (
    CALLBACK_PATH,
    ProviderClient,
    ProviderConfigError,
    parse_providers,
)
from certificate.identity.verifiers import IdentityVerifier, load_verifiers

EXTENSION_KEY = "ipc.identity"


def init_app(app: Flask) -> None:
    """Verifiers (a broken package stops the start, naming it), pages, API, e-mail check."""
    from certificate.extensions import csrf
    from certificate.identity import oidc_routes
    from certificate.identity.api import bp as api
    from certificate.identity.routes import bp as pages

    app.extensions[EXTENSION_KEY] = load_verifiers(app.config)
    app.extensions[oidc_routes.EXTENSION_KEY] = _provider_clients(app)
    app.register_blueprint(pages)
    app.register_blueprint(oidc_routes.bp)
    app.add_template_global(oidc_routes.identity_providers, "identity_providers")
    csrf.exempt(api)  # bearer tokens: no cookie to forge
    app.register_blueprint(api)
    subscribe(app, "account.created", _check_new_address)


def _provider_clients(app: Flask) -> dict[str, ProviderClient]:
    """A client per provider of ``IPC_OIDC_PROVIDERS``; a setting that cannot work stops the start."""
    try:
        providers = parse_providers(app.config.get("OIDC_PROVIDERS"))
    except ProviderConfigError as exc:
        raise ConfigError(str(exc)) from exc
    redirect_uri = f"{app.config['BASE_URL']}{CALLBACK_PATH}"
    return {p.name: ProviderClient(p, redirect_uri) for p in providers}


def _check_new_address(session: DbSession, *, user: User, now: datetime) -> None:
    """In ``required`` mode a new account is sent the link that verifies its address."""
    if proofing_mode() != "required" or user.email_verified_at is not None:
        return
    send_email_check(
        session,
        user,
        secret_key=str(current_app.config["SECRET_KEY"]),
        language=user.language or current_language(),
        now=now,
    )


def verifiers() -> Mapping[str, IdentityVerifier]:
    """The current app's identity verifiers, by method."""
    found: Mapping[str, IdentityVerifier] = current_app.extensions[EXTENSION_KEY]
    return found


def proofing_mode() -> str:
    """``required`` or ``sandbox`` (``IPC_IDENTITY_PROOFING``)."""
    return str(current_app.config["IDENTITY_PROOFING"])
