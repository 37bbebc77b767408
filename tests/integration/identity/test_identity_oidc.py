"""Identity through OpenID Connect, against a real provider process on loopback.

The service runs in the test client; everything between it and the provider
is real HTTP: discovery, the key set, the token endpoint. The person's
browser is played by the test: it posts the provider's sign-in form and
carries the redirect back to the service's callback.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from certificate import create_app
from certificate.audit import AuditEvent
from certificate.checks.models import Check
from certificate.config import ConfigError
from certificate.db import db
from tests.conftest import application_body, drain, signup_and_token, web_login
from tests.integration.organisations.test_organisations import _verify_email
from tests.oidc_provider import OidcProvider, oidc_provider

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery"
ADA = {"family_name": "Okafor", "given_name": "Ada Chioma", "birthdate": "1990-04-17"}


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    with oidc_provider(tmp_path_factory.mktemp("oidc")) as running:
        yield running


@pytest.fixture(scope="module")
def other_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    with oidc_provider(tmp_path_factory.mktemp("oidc-other")) as running:
        yield running


def _entry(issuer: str, **extra: str) -> dict[str, str]:
    return {
        "name": "mock-eid",
        "label": "Mock eID",
        "issuer": issuer,
        "client_id": "ipc-test",
        "client_secret": "s3cret/+=",
        **extra,
    }


def _app(build_app: Callable[..., Flask], *providers: dict[str, str]) -> Flask:
    return build_app(IDENTITY_PROOFING="required", OIDC_PROVIDERS=list(providers))


def _applicant(app: Flask, email: str = "ada@example.org") -> tuple[FlaskClient, str]:
    """A signed-in applicant (address verified) with one application waiting for its identity."""
    client = app.test_client()
    auth = signup_and_token(client, email)
    _verify_email(app, email)
    filed = client.post("/api/v1/applications", json=application_body(), headers=auth)
    assert filed.get_json()["status"] == "awaiting_identity"
    web_login(app, client, email, PASSWORD)
    return client, str(filed.get_json()["id"])


def _start(client: FlaskClient, application_id: str) -> str:
    page = client.get(f"/applications/{application_id}").get_data(as_text=True)
    assert "Confirm with Mock eID" in page
    started = client.post(f"/applications/{application_id}/identity/oidc/mock-eid")
    assert started.status_code == 303, started.get_data(as_text=True)
    return str(started.headers["Location"])


def _back(client: FlaskClient, redirect: str) -> Any:
    """Follow the provider's redirect to the service (its origin is the test app's)."""
    parts = urlsplit(redirect)
    assert parts.path == "/identity/oidc/callback"
    return client.get(f"{parts.path}?{parts.query}")


def _state(app: Flask, application_id: str) -> tuple[str, str | None, list[Check]]:
    with app.app_context():
        checks = list(
            db.session.scalars(select(Check).where(Check.application_id == application_id))
        )
        from certificate.applications.models import Application

        application = db.session.get(Application, application_id)
        assert application is not None
        proof = application.identity_proof
        assert proof is not None
        return application.status, proof.method if proof.status != "pending" else None, checks


def _audit(app: Flask, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_matching_claims_confirm_and_the_certificate_says_oidc(
    build_app: Callable[..., Flask], provider: OidcProvider
) -> None:
    app = _app(build_app, _entry(provider.url))
    client, application_id = _applicant(app)
    provider.person("ada-match", **{**ADA, "family_name": "OKAFOR"})  # case does not matter

    authorize = _start(client, application_id)
    query = parse_qs(urlsplit(authorize).query)
    assert query["response_type"] == ["code"]
    assert query["client_id"] == ["ipc-test"]
    assert query["redirect_uri"] == ["http://ipc.test/identity/oidc/callback"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert len(query["state"][0]) >= 32
    assert len(query["nonce"][0]) >= 32
    assert "openid" in query["scope"][0].split()

    # nothing is asked of any agency before the provider answered
    drain(app)
    status, _method, checks = _state(app, application_id)
    assert status == "awaiting_identity"
    assert {(c.status, c.attempts) for c in checks} == {("queued", 0)}

    confirmed = _back(client, provider.sign_in(authorize, "ada-match"))
    assert confirmed.status_code == 303
    assert confirmed.headers["Location"] == f"/applications/{application_id}"
    drain(app)
    auth = {
        "Authorization": "Bearer "
        + client.post(
            "/api/v1/tokens", json={"email": "ada@example.org", "password": PASSWORD}
        ).get_json()["access_token"]
    }
    done = client.get(f"/api/v1/applications/{application_id}", headers=auth).get_json()
    assert done["status"] == "complete"
    assert [c["status"] for c in done["checks"]] == ["answered"] * 3  # the sandbox agencies
    assert (done["identity"]["status"], done["identity"]["method"]) == ("confirmed", "oidc")
    assert done["identity"]["vouched_by"] == "Mock eID"
    token = done["certificate"]["verify_url"].split("#", 1)[1]
    claims = client.post("/api/v1/verify", json={"token": token}).get_json()["certificate"]
    assert claims["idm"] == "oidc"
    assert "idb" not in claims  # who vouched is printed on the certificate, not in the QR code
    (event,) = _audit(app, "identity.confirmed")
    assert event.details["method"] == "oidc"


@pytest.mark.parametrize(
    ("claims", "named"),
    [
        ({**ADA, "family_name": "Okafor-Mensah"}, "family name"),
        ({**ADA, "birthdate": "1990-04-18"}, "date of birth"),
        ({k: v for k, v in ADA.items() if k != "given_name"}, "given names"),
    ],
)
def test_mismatched_claims_are_refused_and_no_agency_is_asked(
    build_app: Callable[..., Flask], provider: OidcProvider, claims: dict[str, str], named: str
) -> None:
    app = _app(build_app, _entry(provider.url))
    client, application_id = _applicant(app)
    sub = f"someone-{named.replace(' ', '-')}"
    provider.person(sub, **claims)

    refused = _back(client, provider.sign_in(_start(client, application_id), sub))
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert f"Mock eID states a different {named} than your application" in page
    drain(app)
    status, method, checks = _state(app, application_id)
    assert (status, method) == (
        "awaiting_identity",
        None,
    )  # still waiting: it can be done in person
    assert {(c.status, c.attempts, c.sent_at) for c in checks} == {("queued", 0, None)}
    (attempt,) = _audit(app, "identity.mismatch")
    assert attempt.details["provider"] == "mock-eid"
    assert "1990" not in json.dumps(attempt.details)  # names of the claims, not their values
    assert _audit(app, "identity.confirmed") == []


def test_a_forged_or_replayed_state_is_refused(
    build_app: Callable[..., Flask], provider: OidcProvider
) -> None:
    app = _app(build_app, _entry(provider.url))
    client, application_id = _applicant(app)
    provider.person("ada-state", **ADA)
    redirect = provider.sign_in(_start(client, application_id), "ada-state")
    state = parse_qs(urlsplit(redirect).query)["state"][0]

    forged = redirect.replace(f"state={state}", f"state={state[:-2]}xx")
    assert _back(client, forged).status_code == 400
    missing = redirect.replace(f"state={state}", "")
    assert _back(client, missing).status_code == 400
    stranger = app.test_client()  # someone else's browser: the state is not in their session
    signup_and_token(stranger, "mallory@example.org")
    web_login(app, stranger, "mallory@example.org", PASSWORD)
    assert _back(stranger, redirect).status_code == 400
    assert _state(app, application_id)[:2] == ("awaiting_identity", None)

    assert _back(client, redirect).status_code == 303  # the genuine return still works, once
    assert _back(client, redirect).status_code == 400
    assert _state(app, application_id)[:2] == ("in_progress", "oidc")


class _Discovery(BaseHTTPRequestHandler):
    document: bytes = b"{}"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(self.document)))
        self.end_headers()
        self.wfile.write(self.document)

    def log_message(self, *args: object) -> None:
        """Quiet."""


def test_a_token_from_another_issuer_is_refused(
    build_app: Callable[..., Flask],
    provider: OidcProvider,
    other_provider: OidcProvider,
    tmp_path: Path,
) -> None:
    # A mix-up: the discovery document states the configured issuer, but sends the person and
    # the code to another provider, whose genuine token (signed by a key its JWKS publishes)
    # names itself as issuer.
    document = {
        "issuer": provider.url,
        "authorization_endpoint": f"{other_provider.url}/oauth2/authorize",
        "token_endpoint": f"{other_provider.url}/oauth2/token",
        "jwks_uri": f"{other_provider.url}/jwks",
        "id_token_signing_alg_values_supported": ["RS256"],
    }
    handler = type("Handler", (_Discovery,), {"document": json.dumps(document).encode()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        discovery = f"http://127.0.0.1:{server.server_address[1]}/openid-configuration"
        app = _app(build_app, _entry(provider.url, discovery_url=discovery))
        client, application_id = _applicant(app)
        other_provider.person("ada-elsewhere", **ADA)
        authorize = _start(client, application_id)
        refused = _back(client, other_provider.sign_in(authorize, "ada-elsewhere"))
    finally:
        server.shutdown()
        server.server_close()
    assert refused.status_code == 400
    assert "could not be verified" in refused.get_data(as_text=True)
    assert _state(app, application_id)[:2] == ("awaiting_identity", None)
    assert _audit(app, "identity.confirmed") == []


def test_a_provider_whose_discovery_names_another_issuer_is_not_used(
    build_app: Callable[..., Flask], provider: OidcProvider, other_provider: OidcProvider
) -> None:
    discovery = f"{other_provider.url}/.well-known/openid-configuration"
    app = _app(build_app, _entry(provider.url, discovery_url=discovery))
    client, application_id = _applicant(app)
    page = client.get(f"/applications/{application_id}").get_data(as_text=True)
    assert "Confirm with Mock eID" in page
    started = client.post(f"/applications/{application_id}/identity/oidc/mock-eid")
    assert started.status_code == 502
    assert "cannot be reached" in started.get_data(as_text=True)


@pytest.mark.parametrize(
    ("providers", "named"),
    [
        ("not json", "IPC_OIDC_PROVIDERS is not JSON"),
        ([{"name": "x", "issuer": "https://id.example"}], "IPC_OIDC_PROVIDERS[0].client_id"),
        (
            [{"name": "Bad Name", "issuer": "https://i", "client_id": "c", "client_secret": "s"}],
            "IPC_OIDC_PROVIDERS[0].name",
        ),
        (
            [{"name": "x", "issuer": "https://i", "client_id": "c", "client_secret": "s"}] * 2,
            "IPC_OIDC_PROVIDERS[1].name",
        ),
        (
            [
                {
                    "name": "x",
                    "label": "A provider whose name is far too long to print",
                    "issuer": "https://i",
                    "client_id": "c",
                    "client_secret": "s",
                }
            ],
            "IPC_OIDC_PROVIDERS[0].label",
        ),
    ],
)
def test_a_provider_setting_that_cannot_work_stops_the_start(
    app_config: dict[str, Any], providers: object, named: str
) -> None:
    app_config["OIDC_PROVIDERS"] = providers
    with pytest.raises(ConfigError) as raised:
        create_app(app_config)
    assert named in str(raised.value)


def test_a_code_carried_back_under_another_sign_ins_state_is_refused(
    build_app: Callable[..., Flask], provider: OidcProvider
) -> None:
    # Code injection: the code of one sign-in returned with the state of another. The provider
    # puts the first sign-in's nonce in its token, which the second sign-in does not accept.
    app = _app(build_app, _entry(provider.url))
    client, application_id = _applicant(app)
    provider.person("ada-nonce", **ADA)
    first = _start(client, application_id)
    second = _start(client, application_id)
    code = parse_qs(urlsplit(provider.sign_in(first, "ada-nonce")).query)["code"][0]
    other_state = parse_qs(urlsplit(second).query)["state"][0]
    refused = client.get(f"/identity/oidc/callback?code={code}&state={other_state}")
    assert refused.status_code == 400
    assert "could not be verified" in refused.get_data(as_text=True)
    assert _state(app, application_id)[:2] == ("awaiting_identity", None)


def test_a_provider_stating_the_name_in_latin_letters_confirms(
    build_app: Callable[..., Flask], provider: OidcProvider
) -> None:
    app = _app(build_app, _entry(provider.url))
    client = app.test_client()
    auth = signup_and_token(client, "maria@example.org")
    _verify_email(app, "maria@example.org")
    body = application_body("Иванова")
    body["applicant"].update(
        given_names="Мария",
        other_names=[],
        latin_name={"family_name": "IVANOVA", "given_names": "MARIIA"},
    )
    filed = client.post("/api/v1/applications", json=body, headers=auth)
    assert filed.status_code == 201, filed.get_json()
    application_id = filed.get_json()["id"]
    web_login(app, client, "maria@example.org", PASSWORD)
    provider.person(
        "maria-latin", family_name="Ivanova", given_name="Mariia", birthdate="1990-04-17"
    )
    confirmed = _back(client, provider.sign_in(_start(client, application_id), "maria-latin"))
    assert confirmed.status_code == 303, confirmed.get_data(as_text=True)
    assert _state(app, application_id)[:2] == ("in_progress", "oidc")
