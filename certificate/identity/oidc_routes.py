"""The applicant confirms their identity through an OpenID Connect provider (the code flow).

``POST /applications/<id>/identity/oidc/<provider>`` (a form on the
application's page while it waits for its identity) sends the person to the
provider; the provider sends them back to ``/identity/oidc/callback``. What
the service must remember meanwhile (state, nonce, PKCE verifier, the
application) travels in the signed session, keyed by the state, and is used
once.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from certificate.applications import service as applications
from certificate.applications.models import Application, ApplicationStatus
from certificate.auth.access import applicant_required
from certificate.auth.models import User
from certificate.db import db, utcnow
from certificate.identity import proofing_mode, verifiers
from certificate.identity import service as identity
from certificate.identity.models import IdentityStatus
from certificate.identity.oidc import CALLBACK_PATH, OidcError, PendingLogin, ProviderClient
from certificate.identity.verifiers import EvidenceMismatch
from certificate.runtime import runtime
from certificate.web.transaction import after_commit, transactional

bp = Blueprint("identity_oidc", __name__)
log = logging.getLogger(__name__)

EXTENSION_KEY = "ipc.identity.oidc"
SESSION_KEY = "ipc_oidc"
#: how long a person may take at the provider (seconds)
PENDING_SECONDS = 15 * 60
#: sign-ins remembered at once per browser (the oldest is forgotten first)
MAX_PENDING = 5

CLAIM_WORDS = {
    "family_name": _l("family name"),
    "given_name": _l("given names"),
    "birthdate": _l("date of birth"),
}


def provider_clients() -> dict[str, ProviderClient]:
    """The configured providers' clients, by name."""
    found: dict[str, ProviderClient] = current_app.extensions[EXTENSION_KEY]
    return found


def identity_providers() -> list[dict[str, str]]:
    """The providers an applicant may choose, for the application's page."""
    return [
        {"name": name, "label": client.provider.label}
        for name, client in provider_clients().items()
    ]


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


def _owned(application_id: str) -> Application:
    try:
        return applications.get_owned(db.session, _user(), application_id)
    except applications.ApplicationNotFound:
        abort(404, gettext("There is no such application in your account."))


def _waiting(application: Application) -> bool:
    proof = application.identity_proof
    return (
        application.status == ApplicationStatus.AWAITING_IDENTITY.value
        and proof is not None
        and proof.status == IdentityStatus.PENDING.value
    )


def _refused(application_id: str | None, message: str, status: int) -> ResponseReturnValue:
    return (
        render_template(
            "identity/oidc_refused.html", application_id=application_id, message=message
        ),
        status,
    )


@bp.post("/applications/<application_id>/identity/oidc/<provider>")
@applicant_required
@transactional()
def start(application_id: str, provider: str) -> ResponseReturnValue:
    """Send the applicant to the provider they chose, remembering this sign-in."""
    client = provider_clients().get(provider)
    if client is None:
        abort(404, gettext("There is no such identity provider."))
    application = _owned(application_id)
    if not _waiting(application):
        return _refused(
            application.id, gettext("This application no longer waits for its identity."), 409
        )
    try:
        url, pending = client.begin(application.id)
    except OidcError as exc:
        log.warning("identity provider %s unavailable: %s", provider, exc)
        return _refused(
            application.id,
            gettext("The identity provider cannot be reached now. Please try again later."),
            502,
        )
    remembered: dict[str, Any] = dict(session.get(SESSION_KEY) or {})
    remembered[pending.state] = pending.as_dict()
    for state in sorted(remembered, key=lambda s: remembered[s].get("started", 0))[:-MAX_PENDING]:
        del remembered[state]
    session[SESSION_KEY] = remembered
    return redirect(url, 303)


@bp.get(CALLBACK_PATH)
@applicant_required
@transactional()
def callback() -> ResponseReturnValue:
    """The provider sends the applicant back: check everything, then compare the claims."""
    remembered: dict[str, Any] = dict(session.get(SESSION_KEY) or {})
    entry = remembered.pop(request.args.get("state", ""), None)
    session[SESSION_KEY] = remembered  # a state is used once, whatever happens next
    if entry is None:
        return _refused(
            None,
            gettext(
                "This sign-in was not started here, or it was already used. "
                "Start again from your application's page."
            ),
            400,
        )
    try:
        pending = PendingLogin.from_dict(entry)
    except OidcError:
        return _refused(None, gettext("Start again from your application's page."), 400)
    application = _owned(pending.application_id)
    if time.time() - pending.started > PENDING_SECONDS:
        return _refused(
            application.id,
            gettext("This sign-in took too long. Start again from your application's page."),
            400,
        )
    if request.args.get("error") or not request.args.get("code"):
        return _refused(
            application.id,
            gettext(
                "The identity provider did not confirm your identity: the sign-in was cancelled or refused."
            ),
            400,
        )
    if not _waiting(application):
        return _refused(
            application.id, gettext("This application no longer waits for its identity."), 409
        )
    client = provider_clients().get(pending.provider)
    if client is None:  # the operator removed the provider meanwhile
        return _refused(application.id, gettext("There is no such identity provider."), 400)
    try:
        claims = client.finish(pending, request.args["code"])
    except OidcError as exc:
        log.warning("identity provider %s answer refused: %s", pending.provider, exc)
        return _refused(
            application.id,
            gettext(
                "The identity provider's answer could not be verified, so your identity is "
                "not confirmed. Please try again, or have it confirmed in person."
            ),
            400,
        )
    owner = _user()
    try:
        due = identity.confirm_through_provider(
            db.session,
            application,
            owner=owner,
            provider=client.provider.name,
            label=client.provider.label,
            claims=claims,
            verifier=verifiers()["oidc"],
            mode=proofing_mode(),
            now=utcnow(),
        )
    except EvidenceMismatch as exc:
        different = ", ".join(str(CLAIM_WORDS.get(name, name)) for name in exc.field.split(","))
        return _refused(
            application.id,
            gettext(
                "%(provider)s states a different %(claims)s than your application, so your "
                "identity is not confirmed and no agency has been asked. Check what you "
                "filed, or have your identity confirmed in person by an ID checker.",
                provider=client.provider.label,
                claims=different,
            ),
            409,
        )

    def dispatch() -> None:
        for check_id in due:
            runtime().jobs.submit_check(check_id)

    after_commit(dispatch)
    flash(
        gettext("Your identity is confirmed by %(provider)s.", provider=client.provider.label),
        "success",
    )
    return redirect(url_for("applications.progress", application_id=application.id), 303)
