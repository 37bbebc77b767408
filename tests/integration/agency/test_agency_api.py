"""The agency API in process: client assertions, country isolation, answers, and the certificate.

Two api-mode agencies are registered: Iceland (ES256 key) and Norway (EdDSA
key). One application names Iceland and Kenya (sandbox) as residences and
Norway as nationality, so each agency has exactly one query.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pypdfium2 as pdfium
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from certificate.agency.models import UsedAssertion
from certificate.agency.service import add_agency, disable_agency
from certificate.audit import AuditEvent
from certificate.checks.models import Check
from certificate.db import db
from certificate.issuance.claims import decode_outcomes
from certificate.issuance.i18n import category_words
from tests.conftest import application_body, drain

AUDIENCE = "http://ipc.test"  # BASE_URL in tests/conftest.py
PrivateKey = ec.EllipticCurvePrivateKey | Ed25519PrivateKey

RECORDS = [
    {
        "offence": "Fraud by false representation",
        "category": "fraud",
        "date": "2014-05-06",
        "court": "Reykjavik District Court",
        "sentence": "6 months, suspended",
    },
    {
        "offence": "Driving without a licence",
        "category": "traffic",
        "date": "2016-01",
        "court": "Akureyri District Court",
        "sentence": "Fine",
    },
]


def _pem(key: PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_for(agency_id: str, **overrides: Any) -> dict[str, Any]:
    """Valid assertion claims for ``agency_id``; ``None`` values remove a claim."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": agency_id,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 120,
        "jti": secrets.token_urlsafe(16),
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def sign(claims: dict[str, Any], key: PrivateKey) -> str:
    """A JWT signed as the key's algorithm demands."""
    algorithm = "EdDSA" if isinstance(key, Ed25519PrivateKey) else "ES256"
    return jwt.encode(claims, key, algorithm=algorithm)


@dataclass
class Agency:
    """A registered agency as its system sees itself: id, country and private key."""

    id: str
    country: str
    key: PrivateKey

    def token(self, **overrides: Any) -> str:
        return sign(claims_for(self.id, **overrides), self.key)

    def headers(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token()}"}


@dataclass
class World:
    """The app, the two agencies, and the application whose queries they see."""

    app: Flask
    client: FlaskClient
    applicant: dict[str, str]
    iceland: Agency
    norway: Agency
    application_id: str
    checks: dict[str, str]  # country -> check id

    def check(self, country: str) -> Check:
        with self.app.app_context():
            check = db.session.get(Check, self.checks[country])
            assert check is not None
            db.session.expunge(check)
            return check

    def answer(
        self, agency: Agency, check_id: str, body: Any, token: str | None = None
    ) -> tuple[int, Any]:
        response = self.client.post(
            f"/api/v1/agency/queries/{check_id}/answer", json=body, headers=agency.headers(token)
        )
        return response.status_code, response.get_json()

    def stored_jtis(self) -> set[str]:
        with self.app.app_context():
            return set(db.session.scalars(select(UsedAssertion.jti)))

    def audit_count(self, action: str | None = None) -> int:
        with self.app.app_context():
            query = select(func.count()).select_from(AuditEvent)
            if action is not None:
                query = query.where(AuditEvent.action == action)
            return int(db.session.scalar(query) or 0)


def _register(app: Flask, country: str, key: PrivateKey) -> Agency:
    with app.app_context():
        agency = add_agency(
            db.session,
            country=country,
            name=f"{country} Criminal Records Office",
            mode="api",
            public_key_pem=_pem(key),
        )
        db.session.commit()
        return Agency(agency.id, country, key)


@pytest.fixture
def world(app: Flask, client: FlaskClient, auth: dict[str, str]) -> World:
    """Agencies registered, an application filed and its checks dispatched."""
    iceland = _register(app, "IS", ec.generate_private_key(ec.SECP256R1()))
    norway = _register(app, "NO", Ed25519PrivateKey.generate())
    body = application_body(
        "Jonsdottir",
        residences=[
            {"country": "IS", "from": "2012-09", "to": "2016-06"},
            {"country": "KE", "from": "2016-07", "to": None},
        ],
    )
    body["applicant"]["nationalities"] = ["NO"]
    filed = client.post("/api/v1/applications", json=body, headers=auth)
    assert filed.status_code == 201, filed.get_json()
    drain(app)
    checks = {c["country"]: c for c in filed.get_json()["checks"]}
    with app.app_context():
        rows = db.session.scalars(
            select(Check).where(Check.application_id == filed.get_json()["id"])
        ).all()
        ids = {row.country: row.id for row in rows}
    assert set(checks) == {"IS", "KE", "NO"}
    world = World(app, client, auth, iceland, norway, filed.get_json()["id"], ids)
    assert world.check("IS").status == "sent"
    assert world.check("NO").status == "sent"
    assert world.check("KE").status == "answered"
    return world


def test_an_agency_sees_its_own_open_queries_only(world: World) -> None:
    response = world.client.get(
        "/api/v1/agency/queries?status=open", headers=world.iceland.headers()
    )
    assert response.status_code == 200
    [query] = response.get_json()["queries"]
    assert set(query) >= {"id", "country", "subject", "requested_at", "deadline"}
    assert (query["id"], query["country"]) == (world.checks["IS"], "IS")
    subject = query["subject"]
    assert subject["family_name"] == "Jonsdottir"
    assert subject["date_of_birth"] == "1990-04-17"
    assert subject["identity_document"]["number"] == "A1234567"
    assert subject["residences"] == [{"from": "2012-09", "to": "2016-06"}]

    norway = world.client.get("/api/v1/agency/queries", headers=world.norway.headers())
    [query] = norway.get_json()["queries"]
    assert (query["id"], query["country"]) == (world.checks["NO"], "NO")
    assert query["subject"]["residences"] == []  # asked as a nationality only


def test_answering_another_countrys_query_is_404_and_changes_nothing(world: World) -> None:
    status, body = world.answer(
        world.iceland, world.checks["NO"], {"outcome": "no_record", "records": []}
    )
    assert status == 404
    assert body["error"]["code"] == "not_found"
    assert world.check("NO").status == "sent"
    assert world.check("NO").outcome is None
    # ... and a sandbox country's check is no more reachable than another agency's
    status, _ = world.answer(
        world.iceland, world.checks["KE"], {"outcome": "no_record", "records": []}
    )
    assert status == 404


def test_only_status_open_is_supported(world: World) -> None:
    response = world.client.get(
        "/api/v1/agency/queries?status=answered", headers=world.iceland.headers()
    )
    assert response.status_code == 400
    assert "status" in response.get_json()["error"]["fields"]


def _hs256_with_public_pem(world: World) -> str:
    """The classic key-confusion attack, built by hand (PyJWT refuses PEM secrets)."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(claims_for(world.iceland.id)).encode())
    secret = _pem(world.iceland.key).encode()
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def _alg_none(world: World) -> str:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(claims_for(world.iceland.id)).encode())
    return f"{header}.{payload}."


def _signed_with_a_claimed_es256_header_but_eddsa_key(world: World) -> str:
    token = world.norway.token(iss=world.iceland.id)
    _header, payload, signature = token.split(".")
    return f"{_b64(json.dumps({'alg': 'ES256', 'typ': 'JWT'}).encode())}.{payload}.{signature}"


REFUSED_ASSERTIONS = {
    "expired": lambda w: w.iceland.token(iat=int(time.time()) - 600, exp=int(time.time()) - 300),
    "wrong audience": lambda w: w.iceland.token(aud="http://evil.test"),
    "audience with a path": lambda w: w.iceland.token(aud=AUDIENCE + "/api"),
    "exp more than five minutes ahead": lambda w: w.iceland.token(
        iat=int(time.time()), exp=int(time.time()) + 600
    ),
    "lifetime over five minutes": lambda w: w.iceland.token(
        iat=int(time.time()) - 400, exp=int(time.time()) + 60
    ),
    "issued in the future": lambda w: w.iceland.token(
        iat=int(time.time()) + 200, exp=int(time.time()) + 260
    ),
    "a key that is not the agency's": lambda w: sign(
        claims_for(w.iceland.id), ec.generate_private_key(ec.SECP256R1())
    ),
    "another agency's registered key": lambda w: w.norway.token(iss=w.iceland.id),
    "header alg swapped": _signed_with_a_claimed_es256_header_but_eddsa_key,
    "alg none": _alg_none,
    "HS256 signed with the public key": _hs256_with_public_pem,
    "unknown issuer": lambda w: w.iceland.token(iss="no-such-agency"),
    "no jti": lambda w: w.iceland.token(jti=None),
    "no exp": lambda w: w.iceland.token(exp=None),
    "no aud": lambda w: w.iceland.token(aud=None),
    "garbage": lambda w: "not.a.jwt",
}


@pytest.mark.parametrize("case", sorted(REFUSED_ASSERTIONS))
def test_a_refused_assertion_is_401_and_changes_nothing(world: World, case: str) -> None:
    token = REFUSED_ASSERTIONS[case](world)
    before = (world.stored_jtis(), world.audit_count())
    status, body = world.answer(
        world.iceland,
        world.checks["IS"],
        {"outcome": "record_found", "records": RECORDS[:1]},
        token=token,
    )
    assert status == 401, case
    assert body["error"]["code"] == "unauthorized"
    listed = world.client.get(
        "/api/v1/agency/queries", headers={"Authorization": f"Bearer {token}"}
    )
    assert listed.status_code == 401
    assert listed.headers["WWW-Authenticate"].startswith("Bearer")
    check = world.check("IS")
    assert (check.status, check.outcome, check.records) == ("sent", None, [])
    assert (world.stored_jtis(), world.audit_count()) == before


@pytest.mark.parametrize(
    "authorization", [None, "", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz", "Token abc"]
)
def test_no_bearer_assertion_is_401(world: World, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = world.client.get("/api/v1/agency/queries", headers=headers)
    assert response.status_code == 401


def test_a_replayed_jti_is_401_and_changes_nothing(world: World) -> None:
    token = world.iceland.token()
    first = world.client.get("/api/v1/agency/queries", headers=world.iceland.headers(token))
    assert first.status_code == 200
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    assert jti in world.stored_jtis()
    before = (world.stored_jtis(), world.audit_count())

    status, _ = world.answer(
        world.iceland, world.checks["IS"], {"outcome": "no_record", "records": []}, token=token
    )
    assert status == 401
    assert world.check("IS").status == "sent"
    assert (world.stored_jtis(), world.audit_count()) == before
    # the same jti under a fresh signature and times is still a replay
    status, _ = world.answer(
        world.iceland,
        world.checks["IS"],
        {"outcome": "no_record", "records": []},
        token=world.iceland.token(jti=jti),
    )
    assert status == 401
    assert world.check("IS").status == "sent"


def test_jtis_are_per_agency(world: World) -> None:
    jti = "shared-jti-value"
    assert (
        world.client.get(
            "/api/v1/agency/queries", headers=world.iceland.headers(world.iceland.token(jti=jti))
        ).status_code
        == 200
    )
    assert (
        world.client.get(
            "/api/v1/agency/queries", headers=world.norway.headers(world.norway.token(jti=jti))
        ).status_code
        == 200
    )


def test_a_disabled_agency_is_401(world: World) -> None:
    with world.app.app_context():
        from certificate.agency.models import Agency as AgencyRow

        row = db.session.get(AgencyRow, world.iceland.id)
        assert row is not None
        disable_agency(db.session, row)
        db.session.commit()
    before = world.stored_jtis()
    status, _ = world.answer(
        world.iceland, world.checks["IS"], {"outcome": "no_record", "records": []}
    )
    assert status == 401
    assert world.check("IS").status == "sent"
    assert world.stored_jtis() == before


@pytest.mark.parametrize("audience", [AUDIENCE + "/", [AUDIENCE], ["http://other.test", AUDIENCE]])
def test_the_audience_may_have_a_trailing_slash(world: World, audience: Any) -> None:
    response = world.client.get(
        "/api/v1/agency/queries", headers=world.iceland.headers(world.iceland.token(aud=audience))
    )
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"outcome": "record_found", "records": []}, "records"),
        ({"outcome": "record_found"}, "records"),
        ({"outcome": "no_record", "records": RECORDS[:1]}, "records"),
        ({"outcome": "identity_unconfirmed", "records": RECORDS[:1]}, "records"),
        ({"outcome": "clear", "records": []}, "outcome"),
        ({"records": []}, "outcome"),
        ({"outcome": "no_record", "records": [], "colour": "green"}, "colour"),
        (
            {"outcome": "record_found", "records": [{**RECORDS[0], "fine": 100}]},
            "records.0.fine",
        ),
        (
            {"outcome": "record_found", "records": [{**RECORDS[0], "court": ""}]},
            "records.0.court",
        ),
        (
            {"outcome": "record_found", "records": [{**RECORDS[0], "date": "last year"}]},
            "records.0.date",
        ),
        ({"outcome": "no_record", "records": [], "reference": "x" * 201}, "reference"),
        *(
            (
                {"outcome": "record_found", "records": [RECORDS[0], {**RECORDS[1], key: value}]},
                f"records.1.{key}",
            )
            for key, value in [
                ("date", "2010-13-45"),
                ("date", "2099-99-99"),
                ("date", "2010-02-30"),
                ("date", "2010-00"),
                ("date", "20100101"),
                ("date", f"{datetime.now(UTC).year + 1}"),
                ("date", (datetime.now(UTC) + timedelta(days=2)).date().isoformat()),
                ("category", "economic"),
                ("category", "Child sexual abuse"),
                ("category", "child_sexual_abus"),
            ]
        ),
    ],
)
def test_an_invalid_answer_is_400_naming_the_field(
    world: World, body: dict[str, Any], field: str
) -> None:
    before = world.audit_count()
    status, error = world.answer(world.iceland, world.checks["IS"], body)
    assert status == 400, error
    assert field in error["error"]["fields"], error
    check = world.check("IS")
    assert (check.status, check.outcome) == ("sent", None)
    assert world.audit_count() == before


def test_a_body_that_is_not_an_object_is_400(world: World) -> None:
    status, error = world.answer(world.iceland, world.checks["IS"], ["no_record"])
    assert status == 400
    assert error["error"]["fields"]
    response = world.client.post(
        f"/api/v1/agency/queries/{world.checks['IS']}/answer",
        data="outcome=no_record",
        headers={**world.iceland.headers(), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415
    assert world.check("IS").status == "sent"


def test_the_same_answer_twice_is_accepted_once(world: World) -> None:
    body = {"outcome": "record_found", "records": RECORDS, "reference": "IS-77"}
    first = world.answer(world.iceland, world.checks["IS"], body)
    second = world.answer(world.iceland, world.checks["IS"], body)
    assert first == second
    assert first[0] == 200
    assert first[1]["status"] == "answered"
    assert first[1]["outcome"] == "record_found"
    with world.app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.subject_id == world.checks["IS"], AuditEvent.action == "check.answered"
            )
        ).all()
        assert len(events) == 1
        assert events[0].actor == f"agency:{world.iceland.id}"
        answered = db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.subject_id == world.checks["IS"], AuditEvent.action == "query.answered"
            )
        ).all()
        assert [(e.actor, e.details["channel"]) for e in answered] == [
            (f"agency:{world.iceland.id}", "api")
        ]
    # the open list no longer holds it
    queries = world.client.get("/api/v1/agency/queries", headers=world.iceland.headers())
    assert queries.get_json() == {"queries": []}


@pytest.mark.parametrize(
    "second",
    [
        {"outcome": "no_record", "records": []},
        {"outcome": "record_found", "records": RECORDS[:1], "reference": "IS-77"},
        {"outcome": "identity_unconfirmed", "records": []},
    ],
)
def test_a_different_answer_to_a_final_query_is_409(world: World, second: dict[str, Any]) -> None:
    first = {"outcome": "record_found", "records": RECORDS, "reference": "IS-77"}
    assert world.answer(world.iceland, world.checks["IS"], first)[0] == 200
    status, body = world.answer(world.iceland, world.checks["IS"], second)
    assert status == 409
    assert body["error"]["code"] == "conflict"
    check = world.check("IS")
    assert (check.outcome, check.records, check.reference) == ("record_found", RECORDS, "IS-77")


def test_an_answer_after_the_deadline_is_409(world: World) -> None:
    with world.app.app_context():
        check = db.session.get(Check, world.checks["IS"])
        assert check is not None
        check.deadline_at = check.created_at
        db.session.commit()
    drain(world.app)
    assert world.check("IS").status == "no_response"
    status, _ = world.answer(
        world.iceland, world.checks["IS"], {"outcome": "no_record", "records": []}
    )
    assert status == 409
    assert world.check("IS").status == "no_response"


def test_a_query_not_yet_sent_is_not_visible(app: Flask, client: FlaskClient, world: World) -> None:
    body = application_body(
        "Later", residences=[{"country": "IS", "from": "2001-01", "to": "2002-01"}]
    )
    filed = client.post("/api/v1/applications", json=body, headers=world.applicant)
    assert filed.status_code == 201
    with app.app_context():
        queued = db.session.scalars(
            select(Check).where(
                Check.application_id == filed.get_json()["id"], Check.country == "IS"
            )
        ).one()
        assert queued.status == "queued"
        queued_id = queued.id
    ids = [
        q["id"]
        for q in client.get("/api/v1/agency/queries", headers=world.iceland.headers()).get_json()[
            "queries"
        ]
    ]
    assert queued_id not in ids
    status, _ = world.answer(world.iceland, queued_id, {"outcome": "no_record", "records": []})
    assert status == 404
    drain(app)  # dispatched: now it is open
    ids = [
        q["id"]
        for q in client.get("/api/v1/agency/queries", headers=world.iceland.headers()).get_json()[
            "queries"
        ]
    ]
    assert queued_id in ids


def _page_text(pdf: bytes) -> str:
    document = pdfium.PdfDocument(pdf)
    try:
        return "\n".join(
            str(document[i].get_textpage().get_text_range()) for i in range(len(document))
        )
    finally:
        document.close()


def test_the_certificate_shows_each_agencys_answer_exactly_as_given(world: World) -> None:
    iceland = {"outcome": "record_found", "records": RECORDS, "reference": "IS-2024-0077"}
    norway = {"outcome": "identity_unconfirmed", "records": [], "reference": "NO/REF/12"}
    assert world.answer(world.iceland, world.checks["IS"], iceland)[0] == 200
    progress = world.client.get(
        f"/api/v1/applications/{world.application_id}", headers=world.applicant
    ).get_json()
    assert progress["status"] == "in_progress"
    assert progress["certificate"] is None
    assert world.answer(world.norway, world.checks["NO"], norway)[0] == 200
    drain(world.app)

    done = world.client.get(
        f"/api/v1/applications/{world.application_id}", headers=world.applicant
    ).get_json()
    assert done["status"] == "complete", done
    assert {c["country"]: (c["status"], c["outcome"]) for c in done["checks"]} == {
        "IS": ("answered", "record_found"),
        "KE": ("answered", "no_record"),
        "NO": ("answered", "identity_unconfirmed"),
    }
    certificate = done["certificate"]
    assert certificate is not None

    # the signed claims, checked against the published keys
    token = certificate["verify_url"].split("#", 1)[1]
    jwks = world.client.get("/.well-known/jwks.json").get_json()
    kid = jwt.get_unverified_header(token)["kid"]
    key = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == kid))
    claims = jwt.decode(token, key.key, algorithms=["EdDSA"])
    assert decode_outcomes(claims["c"]) == {
        "IS": "record_found",
        "KE": "no_record",
        "NO": "identity_unconfirmed",
    }
    assert "rIS" in claims["c"]
    assert "iNO" in claims["c"]

    # the stored answer is the agency's, field for field
    check = world.check("IS")
    assert (check.records, check.reference) == (RECORDS, "IS-2024-0077")

    # the PDF prints every record and the agency's reference
    pdf = world.client.get(certificate["pdf_url"], headers=world.applicant)
    assert pdf.status_code == 200
    text = " ".join(_page_text(pdf.data).split())
    for record in RECORDS:
        for key, value in record.items():
            if key == "category":  # printed in words, never as the code
                assert category_words("en", value) in text
            else:
                assert value in text, value
    assert "IS-2024-0077" in text
    # the summary leads the first page, before the holder and the countries
    summary = "Record found in 1 of 3 countries; no record in 1; 1 country could not confirm the identity."
    assert summary in text
    assert text.index(summary) < text.index("Holder") < text.index(RECORDS[0]["offence"])
    assert "NO/REF/12" in text
