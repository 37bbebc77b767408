"""Audit finding 10: a push query's JWS verified as a certificate in the offline verifier
(same key, no ``typ`` or purpose check). Every JWS now says what it is for, and every
verifier checks it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient

from certificate.agency.service import add_agency
from certificate.db import db
from certificate.issuance.claims import OUTCOME_CODES, decode_outcomes
from certificate.issuance.models import Certificate
from certificate.runtime import runtime
from certificate.signing import jws
from certificate.verify.offline import check_name, report_lines, verify_offline
from tests.conftest import application_body, drain


class _Capture(BaseHTTPRequestHandler):
    """A push agency's endpoint that keeps what the service sends and answers later (202)."""

    server: _AgencyEndpoint

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.received.append(body.decode())
        self.send_response(202)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


class _AgencyEndpoint(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Capture)
        self.received: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/queries"


@pytest.fixture
def endpoint() -> Iterator[_AgencyEndpoint]:
    server = _AgencyEndpoint()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _issued_token(app: Flask, client: FlaskClient, auth: dict[str, str]) -> tuple[str, str]:
    """(certificate id, token) of a certificate issued from sandbox answers."""
    filed = client.post("/api/v1/applications", json=application_body(), headers=auth)
    assert filed.status_code == 201, filed.get_json()
    drain(app)
    body = client.get(f"/api/v1/applications/{filed.get_json()['id']}", headers=auth).get_json()
    certificate = body["certificate"]
    assert certificate is not None, body
    return certificate["id"], certificate["verify_url"].split("#", 1)[1]


def _pushed_query(
    app: Flask, client: FlaskClient, auth: dict[str, str], endpoint: _AgencyEndpoint
) -> str:
    """The JWS the service pushed to a push-mode agency, as that agency received it."""
    with app.app_context():
        add_agency(db.session, country="IS", name="IS Records", mode="push", endpoint=endpoint.url)
        db.session.commit()
    body = application_body(
        residences=[{"country": "IS", "from": "2012-09", "to": None}],
    )
    filed = client.post("/api/v1/applications", json=body, headers=auth)
    assert filed.status_code == 201, filed.get_json()
    drain(app)
    assert len(endpoint.received) == 1
    return endpoint.received[0]


def _resign(app: Flask, token: str, typ: str, *, first_claim_set: bool = False) -> str:
    """``token``'s claims signed again with the service's own key under another ``typ``,
    as the service signed everything before it set ``typ``; with ``first_claim_set``, in
    the claim set certificates carried then (names whole, outcomes as an object)."""
    kid = jwt.get_unverified_header(token)["kid"]
    claims = jwt.decode(token, options={"verify_signature": False})
    if first_claim_set:
        outcomes = decode_outcomes(claims.pop("c"))
        grouped: dict[str, str] = {}
        for country, outcome in outcomes.items():
            code = OUTCOME_CODES[outcome]
            grouped[code] = grouped.get(code, "") + country
        del claims["n"], claims["nd"]
        claims.update({"fn": "Okafor", "gn": "Ada Chioma", "c": grouped})
    with app.app_context():
        key = runtime().keys.private_key(kid)
    return jws.sign(claims, key, kid, typ=typ)


def _online(client: FlaskClient, token: str) -> dict[str, Any]:
    response = client.post("/api/v1/verify", json={"token": token})
    assert response.status_code == 200
    answer: dict[str, Any] = response.get_json()
    return answer


def test_a_pushed_query_is_not_a_certificate_online_or_offline(
    app: Flask, client: FlaskClient, auth: dict[str, str], endpoint: _AgencyEndpoint
) -> None:
    """The auditor ran a push agency, took the query the service signed for it, and gave it
    to the offline verifier: it verified as a certificate. Now it is invalid everywhere."""
    pushed = _pushed_query(app, client, auth, endpoint)
    assert jwt.get_unverified_header(pushed)["typ"] == "ipc-query+jwt"
    jwks = client.get("/.well-known/jwks.json").get_json()

    offline = verify_offline(pushed, jwks)
    assert (offline.status, offline.claims) == ("invalid", None)
    online = _online(client, pushed)
    assert (online["valid"], online["status"], online["certificate"]) == (False, "invalid", None)

    # a query signed as the service signed them before typ existed is refused as well
    legacy_query = _resign(app, pushed, "JWT")
    assert verify_offline(legacy_query, jwks).status == "invalid"
    assert _online(client, legacy_query)["status"] == "invalid"


def test_certificates_say_what_they_are_and_older_ones_still_verify(
    app: Flask, client: FlaskClient, auth: dict[str, str]
) -> None:
    certificate_id, token = _issued_token(app, client, auth)
    assert jwt.get_unverified_header(token)["typ"] == "ipc-cert+jwt"
    jwks = client.get("/.well-known/jwks.json").get_json()
    assert verify_offline(token, jwks).status == "valid"
    assert _online(client, token)["status"] == "valid"

    # a certificate issued before typ was set carries PyJWT's "JWT" and the first claim
    # set: it keeps verifying, online and offline, and reads as it always did
    legacy = _resign(app, token, "JWT", first_claim_set=True)
    with app.app_context():
        stored = db.session.get(Certificate, certificate_id)
        assert stored is not None
        stored.token = legacy
        db.session.commit()
    assert verify_offline(legacy, jwks).status == "valid"
    assert _online(client, legacy)["status"] == "valid"
    assert _online(client, legacy)["certificate"]["jti"] == certificate_id
    assert _online(client, legacy)["summary"] == _online(client, token)["summary"]
    offline = verify_offline(legacy, jwks)
    assert "holder: Ada Chioma Okafor" in report_lines(offline)
    assert check_name(offline, "OKAFOR", "ada chioma").name_matches is True

    # but no other typ is a certificate, whoever signed it
    for other in (jws.PUSH_QUERY_TYP, "at+jwt", "ipc-cert"):
        forged = _resign(app, token, other)
        assert verify_offline(forged, jwks).status == "invalid", other
        assert _online(client, forged)["status"] == "invalid", other
