"""OpenID Connect identity providers: the operator's list, and the code flow's protocol side.

``IPC_OIDC_PROVIDERS`` is a JSON list; each entry names one provider the
operator trusts to vouch for a person's name and date of birth::

    [{"name": "eid-ng", "label": "NIMC eID", "issuer": "https://id.example.ng",
      "client_id": "ipc", "client_secret": "..."}]

``name`` (letters, digits, hyphens) appears in URLs; ``label`` (at most 32
bytes in UTF-8, default ``name``) is what the applicant sees and what the
certificate prints as who vouched. ``discovery_url``
defaults to ``{issuer}/.well-known/openid-configuration``; ``scope``
defaults to ``openid profile``; ``token_endpoint_auth_method`` to
``client_secret_basic``. The redirect URI to register with the provider is
``{IPC_BASE_URL}/identity/oidc/callback``.

The flow is the authorization code flow with PKCE (S256), a random
``state`` and ``nonce``. The ID token is checked here: signature by a key
of the provider's JWKS (fetched again once when a token names an unknown
key), ``iss`` equal to the configured issuer (which the discovery document
must also state), ``aud`` holding the client id, ``exp``/``iat`` with a
minute's leeway, the ``nonce`` of this flow, and ``azp``/``at_hash`` when
present. Comparing the claims with the application is the verifier's work
(:class:`certificate.identity.verifiers.OidcVerifier`).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from certificate.identity.verifiers import voucher_name_problem

CALLBACK_PATH = "/identity/oidc/callback"
#: how long discovery documents and key sets are kept before they are fetched again (seconds)
METADATA_TTL = 3600
#: clock difference tolerated on ``exp`` and ``iat`` (seconds)
LEEWAY = 60
HTTP_TIMEOUT = 10.0
#: the algorithms an ID token may be signed with (never ``none``, never HMAC with a public secret)
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA")
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_AUTH_METHODS = ("client_secret_basic", "client_secret_post")


class ProviderConfigError(ValueError):
    """``IPC_OIDC_PROVIDERS`` cannot work; the message names the entry and the field."""


class OidcError(Exception):
    """The provider's answer cannot be trusted or used; the message says why (no personal data)."""


@dataclass(frozen=True)
class Provider:
    """One identity provider as the operator configured it."""

    name: str
    label: str
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    discovery_url: str
    scope: str = "openid profile"
    token_endpoint_auth_method: str = "client_secret_basic"


def parse_providers(raw: object) -> list[Provider]:
    """The providers of ``IPC_OIDC_PROVIDERS`` (a JSON list, or its text); ProviderConfigError."""
    if raw in (None, "", []):
        return []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise ProviderConfigError(f"IPC_OIDC_PROVIDERS is not JSON: {exc}") from exc
    if not isinstance(raw, list):
        raise ProviderConfigError("IPC_OIDC_PROVIDERS must be a JSON list of providers")
    providers: list[Provider] = []
    for index, entry in enumerate(raw):
        where = f"IPC_OIDC_PROVIDERS[{index}]"
        if not isinstance(entry, Mapping):
            raise ProviderConfigError(f"{where} must be an object")
        unknown = set(entry) - {
            "name",
            "label",
            "issuer",
            "client_id",
            "client_secret",
            "discovery_url",
            "scope",
            "token_endpoint_auth_method",
        }
        if unknown:
            raise ProviderConfigError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        for required in ("name", "issuer", "client_id", "client_secret"):
            if not isinstance(entry.get(required), str) or not entry[required]:
                raise ProviderConfigError(f"{where}.{required} is required (a string)")
        name = entry["name"]
        if not _NAME.match(name):
            raise ProviderConfigError(
                f"{where}.name must be lower-case letters, digits and hyphens (it is in URLs)"
            )
        if name in {p.name for p in providers}:
            raise ProviderConfigError(f"{where}.name {name!r} is used twice")
        label = str(entry.get("label") or name)
        problem = voucher_name_problem(label)
        if problem:
            raise ProviderConfigError(f"{where}.label {problem}")
        issuer = str(entry["issuer"])  # compared exactly, as OpenID Connect requires
        discovery = str(
            entry.get("discovery_url") or f"{issuer.rstrip('/')}/.well-known/openid-configuration"
        )
        for key, url in (("issuer", issuer), ("discovery_url", discovery)):
            if not url.startswith(("https://", "http://")):
                raise ProviderConfigError(f"{where}.{key} must be an http(s) URL")
        scope = str(entry.get("scope") or "openid profile")
        if "openid" not in scope.split():
            raise ProviderConfigError(f"{where}.scope must include 'openid'")
        method = str(entry.get("token_endpoint_auth_method") or "client_secret_basic")
        if method not in _AUTH_METHODS:
            raise ProviderConfigError(
                f"{where}.token_endpoint_auth_method must be one of {', '.join(_AUTH_METHODS)}"
            )
        providers.append(
            Provider(
                name=name,
                label=label,
                issuer=issuer,
                client_id=entry["client_id"],
                client_secret=entry["client_secret"],
                discovery_url=discovery,
                scope=scope,
                token_endpoint_auth_method=method,
            )
        )
    return providers


@dataclass(frozen=True)
class PendingLogin:
    """What the service remembers between sending the person away and their return."""

    provider: str
    application_id: str
    state: str
    nonce: str
    code_verifier: str
    started: float

    def as_dict(self) -> dict[str, Any]:
        """For the session."""
        return {
            "provider": self.provider,
            "application_id": self.application_id,
            "state": self.state,
            "nonce": self.nonce,
            "code_verifier": self.code_verifier,
            "started": self.started,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PendingLogin:
        """From the session; OidcError when it is not one this service wrote."""
        try:
            return cls(
                provider=str(data["provider"]),
                application_id=str(data["application_id"]),
                state=str(data["state"]),
                nonce=str(data["nonce"]),
                code_verifier=str(data["code_verifier"]),
                started=float(data["started"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise OidcError("the sign-in in progress is unreadable") from exc


class ProviderClient:
    """The protocol with one provider: discovery, the authorization URL, the token, its checks.

    Discovery documents and key sets are cached for METADATA_TTL seconds per
    process; every call has a timeout.
    """

    def __init__(self, provider: Provider, redirect_uri: str) -> None:
        self.provider = provider
        self.redirect_uri = redirect_uri
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._keys: dict[str, Any] | None = None
        self._fetched = 0.0

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = httpx.get(url, timeout=HTTP_TIMEOUT, follow_redirects=False)
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise OidcError(f"the identity provider did not answer ({type(exc).__name__})") from exc
        if not isinstance(body, dict):
            raise OidcError("the identity provider answered something that is not JSON")
        return body

    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document, checked to state the configured issuer."""
        with self._lock:
            if self._metadata is not None and time.monotonic() - self._fetched < METADATA_TTL:
                return self._metadata
        found = self._get_json(self.provider.discovery_url)
        if found.get("issuer") != self.provider.issuer:
            raise OidcError("the provider's discovery document names another issuer")
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(found.get(key), str):
                raise OidcError(f"the provider's discovery document has no {key}")
        with self._lock:
            self._metadata, self._keys, self._fetched = found, None, time.monotonic()
        return found

    def _key_set(self, *, refresh: bool) -> KeySet:
        metadata = self.metadata()
        with self._lock:
            keys = None if refresh else self._keys
        if keys is None:
            keys = self._get_json(str(metadata["jwks_uri"]))
            with self._lock:
                self._keys = keys
        try:
            return KeySet.import_key_set(keys)  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError) as exc:
            raise OidcError("the provider's key set is unreadable") from exc

    def begin(self, application_id: str) -> tuple[str, PendingLogin]:
        """The URL to send the person to, and what to remember until they return."""
        metadata = self.metadata()
        pending = PendingLogin(
            provider=self.provider.name,
            application_id=application_id,
            state=generate_token(32),
            nonce=generate_token(32),
            code_verifier=generate_token(64),
            started=time.time(),
        )
        url = prepare_grant_uri(
            str(metadata["authorization_endpoint"]),
            client_id=self.provider.client_id,
            response_type="code",
            redirect_uri=self.redirect_uri,
            scope=self.provider.scope,
            state=pending.state,
            nonce=pending.nonce,
            code_challenge=create_s256_code_challenge(pending.code_verifier),
            code_challenge_method="S256",
        )
        return str(url), pending

    def finish(self, pending: PendingLogin, code: str) -> dict[str, Any]:
        """Exchange ``code`` for tokens and return the ID token's checked claims. OidcError."""
        metadata = self.metadata()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": pending.code_verifier,
        }
        auth: tuple[str, str] | None = (  # RFC 6749 2.3.1: form-encoded, then Basic
            quote(self.provider.client_id, safe=""),
            quote(self.provider.client_secret, safe=""),
        )
        if self.provider.token_endpoint_auth_method == "client_secret_post":
            form.update(
                client_id=self.provider.client_id, client_secret=self.provider.client_secret
            )
            auth = None
        try:
            response = httpx.post(
                str(metadata["token_endpoint"]),
                data=form,
                auth=auth,
                headers={"Accept": "application/json"},
                timeout=HTTP_TIMEOUT,
                follow_redirects=False,
            )
            token = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise OidcError(f"the identity provider did not answer ({type(exc).__name__})") from exc
        if response.status_code != 200 or not isinstance(token, dict):
            error = token.get("error") if isinstance(token, dict) else None
            raise OidcError(f"the identity provider gave no token for this sign-in ({error})")
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise OidcError("the identity provider's answer holds no ID token")
        return self.check_id_token(
            id_token, nonce=pending.nonce, access_token=token.get("access_token")
        )

    def check_id_token(
        self, id_token: str, *, nonce: str, access_token: object = None
    ) -> dict[str, Any]:
        """The ID token's claims once its signature, issuer, audience, times and nonce hold."""
        allowed = [
            alg
            for alg in self.metadata().get("id_token_signing_alg_values_supported")
            or SIGNING_ALGORITHMS
            if alg in SIGNING_ALGORITHMS
        ]
        registry = JWSRegistry(
            algorithms=allowed or list(SIGNING_ALGORITHMS), strict_check_header=False
        )
        try:
            try:
                decoded = jwt.decode(id_token, self._key_set(refresh=False), registry=registry)
            except InvalidKeyIdError:  # the provider may have rotated its keys
                decoded = jwt.decode(id_token, self._key_set(refresh=True), registry=registry)
        except (JoseError, ValueError) as exc:
            raise OidcError(
                f"the ID token's signature does not verify ({type(exc).__name__})"
            ) from exc
        params: dict[str, Any] = {"nonce": nonce, "client_id": self.provider.client_id}
        if isinstance(access_token, str):
            params["access_token"] = access_token
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            {
                "iss": {"essential": True, "value": self.provider.issuer},
                "aud": {"essential": True, "value": self.provider.client_id},
                "exp": {"essential": True},
                "nonce": {"essential": True, "value": nonce},
            },
            params,
        )
        try:
            claims.validate(leeway=LEEWAY)
        except JoseError as exc:
            claim = getattr(exc, "claim", None) or getattr(exc, "error", type(exc).__name__)
            raise OidcError(f"the ID token does not hold for this sign-in ({claim})") from exc
        return dict(claims)
