"""Access control everywhere: every route of the URL map under every role.

``POLICY`` says, for every (endpoint, method) of ``app.url_map``, what each
role gets; docs/access-control.md is the same table in prose. A route added
without a policy entry fails ``test_every_route_has_a_policy``. Each case makes
the request as that role and compares the answer's class to the policy; a
refused request must leave the database as it was.

Outcomes:

* ``ALLOWED``: the view ran for this caller (2xx, a 3xx that is not the log-in
  page, or a 400/409 about the minimal body the walker sends);
* ``LOGIN``: a redirect to ``/login`` (pages, no session);
* ``FORBIDDEN``: 403 (logged in with a role the route is not for);
* ``NOT_FOUND``: 404 (someone else's application, another country's query);
* ``UNAUTHORIZED``: 401 (API without a valid bearer token or agency assertion).

Roles: anonymous; applicant (owns every application below); other applicant;
officer of KE (the country of the queries used below); officer of TH; admin;
and, for the agency API, the KE and TH agencies' systems (JWT client
assertions). Human roles send their session cookie and their own bearer token
on every request, so a page and an API endpoint each see the credential they
accept.

The world is built once per module: A's application in progress (KE query open
with a question to A, TH query open, NG answered), A's application with failed
KE and TH checks, A's completed application with its certificate, and an
approval action already decided.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select
from werkzeug.test import TestResponse

from certificate import create_app
from certificate.admin import approvals
from certificate.admin.models import PendingAction
from certificate.agency.models import Agency, CheckQuestion
from certificate.agency.service import add_agency, ask_question
from certificate.applications.models import Application
from certificate.auth.models import ApiToken, User
from certificate.auth.service import create_user, issue_token
from certificate.checks.models import Check
from certificate.db import db, utcnow
from certificate.issuance.models import Certificate
from certificate.organisations.models import ApiKey, CandidateRequest, Webhook
from certificate.organisations.requests import create_request
from certificate.organisations.service import add_organisation, create_api_key
from certificate.organisations.webhooks import create_webhook
from tests.conftest import SANDBOX, application_body, drain, web_login
from tests.databases import fresh_database
from tests.integration.web.test_pages import form_data

PASSWORD = "correct horse battery"
AUDIENCE = "http://ipc.test"

ALLOWED = "allowed"
LOGIN = "login"
FORBIDDEN = "forbidden"
NOT_FOUND = "not_found"
UNAUTHORIZED = "unauthorized"

ROLES = (
    "anonymous",
    "applicant",
    "other_applicant",
    "officer_ke",
    "officer_th",
    "admin",
    "agency_ke",
    "agency_th",
    "employer",
    "other_employer",
    "id_checker",
    "org_key",
)
HUMAN_ROLES = (
    "applicant",
    "other_applicant",
    "officer_ke",
    "officer_th",
    "admin",
    "employer",
    "other_employer",
    "id_checker",
)
#: Members of organisations: the employer and the ID checker of organisation A, the
#: employer of organisation B. ``org_key`` calls with an API key of organisation A.
MEMBERS = ("employer", "other_employer", "id_checker")

Policy = dict[str, str]


# --- the policy, by kind of route


def public() -> Policy:
    """Anyone, logged in or not."""
    return dict.fromkeys(ROLES, ALLOWED)


def everyone(outcome: str) -> Policy:
    """The same answer for every role."""
    return dict.fromkeys(ROLES, outcome)


def applicant_page(*, owned: bool) -> Policy:
    """Applicant pages; ``owned``: about one application, which only its owner may see."""
    return {
        "anonymous": LOGIN,
        "applicant": ALLOWED,
        "other_applicant": NOT_FOUND if owned else ALLOWED,
        "officer_ke": FORBIDDEN,
        "officer_th": FORBIDDEN,
        "admin": FORBIDDEN,
        "agency_ke": LOGIN,
        "agency_th": LOGIN,
        **dict.fromkeys(MEMBERS, FORBIDDEN),
        "org_key": LOGIN,
    }


def officer_page(*, query: bool) -> Policy:
    """Portal pages; ``query``: about one query, which only its country's officers may see."""
    return {
        "anonymous": LOGIN,
        "applicant": FORBIDDEN,
        "other_applicant": FORBIDDEN,
        "officer_ke": ALLOWED,
        "officer_th": NOT_FOUND if query else ALLOWED,
        "admin": FORBIDDEN,
        "agency_ke": LOGIN,
        "agency_th": LOGIN,
        **dict.fromkeys(MEMBERS, FORBIDDEN),
        "org_key": LOGIN,
    }


def admin_page() -> Policy:
    """Admin pages: admins only."""
    return {
        "anonymous": LOGIN,
        "applicant": FORBIDDEN,
        "other_applicant": FORBIDDEN,
        "officer_ke": FORBIDDEN,
        "officer_th": FORBIDDEN,
        "admin": ALLOWED,
        "agency_ke": LOGIN,
        "agency_th": LOGIN,
        **dict.fromkeys(MEMBERS, FORBIDDEN),
        "org_key": LOGIN,
    }


def applicant_api(*, owned: bool) -> Policy:
    """The applicant API (bearer token of an applicant); other roles' tokens are a 403."""
    return {
        "anonymous": UNAUTHORIZED,
        "applicant": ALLOWED,
        "other_applicant": NOT_FOUND if owned else ALLOWED,
        "officer_ke": FORBIDDEN,
        "officer_th": FORBIDDEN,
        "admin": FORBIDDEN,
        "agency_ke": UNAUTHORIZED,
        "agency_th": UNAUTHORIZED,
        **dict.fromkeys(MEMBERS, FORBIDDEN),
        "org_key": UNAUTHORIZED,  # an API key is no person's token
    }


def member_api(allowed: dict[str, str]) -> Policy:
    """APIs for members of organisations: ``allowed`` says what the members and the
    organisation's key get; other people's tokens are a 403, no token a 401."""
    return {
        **dict.fromkeys(ROLES, FORBIDDEN),
        "anonymous": UNAUTHORIZED,
        "agency_ke": UNAUTHORIZED,
        "agency_th": UNAUTHORIZED,
        "org_key": UNAUTHORIZED,
        **allowed,
    }


def member_page(allowed: dict[str, str]) -> Policy:
    """Pages for members of organisations: ``allowed`` says what the members get; other
    logged-in roles are a 403, callers without a session go to the log-in page."""
    return {
        **dict.fromkeys(ROLES, FORBIDDEN),
        "anonymous": LOGIN,
        "agency_ke": LOGIN,
        "agency_th": LOGIN,
        "org_key": LOGIN,
        **allowed,
    }


#: What an employer's pages and APIs give: their own organisation's (A's) objects to its
#: employer, a 404 for them to B's employer, a 403 to the ID checker.
EMPLOYERS = {"employer": ALLOWED, "other_employer": ALLOWED}
OWN_OBJECT = {"employer": ALLOWED, "other_employer": NOT_FOUND}
ID_CHECKER = {"id_checker": ALLOWED}


def agency_api(*, query: bool) -> Policy:
    """The agency API: a JWT assertion of an enabled agency; user tokens are a 401."""
    return {
        **dict.fromkeys(ROLES, UNAUTHORIZED),
        "agency_ke": ALLOWED,
        "agency_th": NOT_FOUND if query else ALLOWED,
    }


POLICY: dict[tuple[str, str], Policy] = {
    # public pages and documents
    ("applications.index", "GET"): public(),
    ("static", "GET"): public(),
    ("health.healthz", "GET"): public(),
    (
        "observability.metrics",
        "GET",
    ): public(),  # no personal data; keep it internal (operations.md)
    ("openapi.openapi_json", "GET"): public(),
    ("verify_api.published_keys", "GET"): public(),
    ("verify_api.verify", "POST"): public(),
    ("verify.page", "GET"): public(),
    ("verify.verify_number", "POST"): public(),
    ("verify.verify_upload", "POST"): public(),
    # accounts and log-in
    ("auth.signup", "GET"): public(),  # a logged-in user is sent to their home page
    ("auth.signup", "POST"): public(),
    ("auth.login", "GET"): public(),
    ("auth.login", "POST"): public(),
    ("auth.second_factor", "GET"): everyone(LOGIN),  # without a pending password step
    ("auth.second_factor", "POST"): everyone(LOGIN),
    ("auth.logout", "POST"): public(),
    ("auth_api.create_account", "POST"): public(),
    ("auth_api.create_token", "POST"): public(),
    # the link of the e-mail address check: the token is the credential (a bad one: 400)
    ("identity.verify_email", "GET"): public(),
    # organisations' members: the ID checker's desk (the empty form: a 400)
    ("identity.desk", "GET"): member_page(ID_CHECKER),
    ("identity.desk", "POST"): member_page(ID_CHECKER),
    ("identity_api.identity_check", "POST"): member_api(ID_CHECKER),
    # an organisation's keys and webhooks: A's, by their ids (B's employer: 404)
    ("organisations_api.create_api_key", "POST"): member_api(OWN_OBJECT),
    ("organisations_api.revoke_api_key", "DELETE"): member_api(OWN_OBJECT),
    ("organisations_api.create_webhook", "POST"): member_api(EMPLOYERS),
    ("organisations_api.disable_webhook", "DELETE"): member_api(OWN_OBJECT),
    # requests: an employer's token or the organisation's API key, each their own
    ("organisations_api.create_request", "POST"): member_api({**EMPLOYERS, "org_key": ALLOWED}),
    ("organisations_api.list_requests", "GET"): member_api({**EMPLOYERS, "org_key": ALLOWED}),
    # the employer's pages (empty forms: a 400; a new key is made and shown)
    ("employer.index", "GET"): member_page(EMPLOYERS),
    ("employer.ask", "POST"): member_page(EMPLOYERS),
    ("employer.access", "GET"): member_page(EMPLOYERS),
    ("employer.create_key", "POST"): member_page(EMPLOYERS),
    ("employer.revoke_key", "POST"): member_page(OWN_OBJECT),
    ("employer.create_webhook", "POST"): member_page(EMPLOYERS),
    ("employer.disable_webhook", "POST"): member_page(OWN_OBJECT),
    ("employer.batch_form", "GET"): member_page(EMPLOYERS),
    ("employer.verify_csv", "POST"): member_page(EMPLOYERS),
    # the candidate's page of a request (an unknown one: 404 to applicants)
    ("requests.show", "GET"): {
        **applicant_page(owned=False),
        "applicant": NOT_FOUND,
        "other_applicant": NOT_FOUND,
    },
    ("requests.share", "POST"): {
        **applicant_page(owned=False),
        "applicant": NOT_FOUND,
        "other_applicant": NOT_FOUND,
    },
    ("requests.stop", "POST"): {
        **applicant_page(owned=False),
        "applicant": NOT_FOUND,
        "other_applicant": NOT_FOUND,
    },
    # an organisation's API key only: no user's token opens it (the empty body: a 400)
    ("organisations_api.verify_batch", "POST"): {**everyone(UNAUTHORIZED), "org_key": ALLOWED},
    # a candidate shares their own application: the empty body is a 400, an unknown request a 404
    ("organisations_api.share", "POST"): applicant_api(owned=False),
    ("organisations_api.stop_sharing", "DELETE"): {
        **applicant_api(owned=False),
        "applicant": NOT_FOUND,
        "other_applicant": NOT_FOUND,
    },
    # applicant pages
    ("applications.dashboard", "GET"): applicant_page(owned=False),
    ("applications.new_application", "GET"): applicant_page(owned=False),
    ("applications.new_application", "POST"): applicant_page(owned=False),
    ("applications.progress", "GET"): applicant_page(owned=True),
    ("applications.certificate_pdf", "GET"): applicant_page(owned=True),
    ("applications.reply", "POST"): applicant_page(owned=True),
    # identity through an OpenID Connect provider: none is configured here, so the owner too
    # gets a 404; the return from a provider without a sign-in started is a 400
    ("identity_oidc.start", "POST"): {**applicant_page(owned=True), "applicant": NOT_FOUND},
    ("identity_oidc.callback", "GET"): applicant_page(owned=False),
    # applicant API
    ("applications_api.create", "POST"): applicant_api(owned=False),
    ("applications_api.list_applications", "GET"): applicant_api(owned=False),
    ("applications_api.read", "GET"): applicant_api(owned=True),
    ("applications_api.certificate_pdf", "GET"): applicant_api(owned=True),
    ("applications_api.withdraw_application", "POST"): applicant_api(owned=True),
    # officer portal
    ("agency.index", "GET"): officer_page(query=False),
    ("agency.query", "GET"): officer_page(query=True),
    ("agency.answer", "POST"): officer_page(query=True),
    ("agency.ask", "POST"): officer_page(query=True),
    # agency API
    ("agency_api.list_queries", "GET"): agency_api(query=False),
    ("agency_api.answer_query", "POST"): agency_api(query=True),
    # admin pages
    ("admin_checks.index", "GET"): admin_page(),
    ("admin_checks.retry", "POST"): admin_page(),
    ("admin_checks.answer", "GET"): admin_page(),
    ("admin_checks.answer", "POST"): admin_page(),
    ("admin_certificates.index", "GET"): admin_page(),
    ("admin_certificates.search", "POST"): admin_page(),
    ("admin_certificates.revoke_certificate", "GET"): admin_page(),
    ("admin_certificates.revoke_certificate", "POST"): admin_page(),
    ("admin_approvals.index", "GET"): admin_page(),
    ("admin_approvals.show", "GET"): admin_page(),
    ("admin_approvals.approve", "POST"): admin_page(),
    ("admin_approvals.reject", "POST"): admin_page(),
}

#: Cases whose service behaviour is known to be wrong: (endpoint, method, role) -> reason.
#: Each becomes a strict xfail, so the fix turns it into a failure to remove here.
KNOWN_WRONG: dict[tuple[str, str, str], str] = {}


# --- the world


def _pem(key: ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@dataclass
class AgencySystem:
    """An agency's system: its id and the key it signs assertions with."""

    id: str
    key: ec.EllipticCurvePrivateKey

    def headers(self) -> dict[str, str]:
        now = int(time.time())
        claims = {
            "iss": self.id,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + 120,
            "jti": secrets.token_urlsafe(16),
        }
        return {"Authorization": f"Bearer {jwt.encode(claims, self.key, algorithm='ES256')}"}


@dataclass
class Caller:
    """A role's client (cookie jar) and the Authorization header it sends."""

    client: FlaskClient
    headers: Callable[[], dict[str, str]]


@dataclass
class World:
    app: Flask
    callers: dict[str, Caller]
    logout_callers: dict[str, Callable[[], Caller]]
    ids: dict[str, str] = field(default_factory=dict)

    def get(self, model: Any, id_: str) -> Any:
        with self.app.app_context():
            row = db.session.get(model, id_)
            assert row is not None
            db.session.expunge(row)
            return row


def _user(
    app: Flask,
    email: str,
    role: str = "applicant",
    country: str | None = None,
    organisation: str | None = None,
) -> str:
    with app.app_context():
        user = create_user(
            db.session,
            email=email,
            password=PASSWORD,
            name=email.split("@")[0],
            role=role,
            country=country,
            organisation_id=organisation,
        )
        db.session.commit()
        return user.id


MEMBER_EMAILS = {
    "employer": "hr@org-a.example",
    "other_employer": "hr@org-b.example",
    "id_checker": "desk@org-a.example",
}


def _organisations(app: Flask, ids: dict[str, str]) -> str:
    """Organisations A and B, their members, A's keys, webhooks and requests, B's request.

    Returns A's API key (the ``org_key`` caller's). Routes that revoke or disable name
    A's spare key and spare webhook, so the walk never takes away what it uses.
    """
    with app.app_context():
        now = utcnow()
        org_a = add_organisation(db.session, name="Organisation A", now=now)
        org_b = add_organisation(db.session, name="Organisation B", now=now)
        ids["org_a"], ids["org_b"] = org_a.id, org_b.id
        _key, key = create_api_key(db.session, org_a, name="walk", actor="operator", now=now)
        spare, _ = create_api_key(db.session, org_a, name="spare", actor="operator", now=now)
        hook = create_webhook(
            db.session,
            org_a,
            url="https://hooks.example.org/ipc",
            events=["certificate.revoked"],
            allow_private=True,
            actor="operator",
            now=now,
        )
        for organisation, email in (
            (org_a, "candidate.a@example.org"),
            (org_b, "candidate.b@example.org"),
        ):
            request = create_request(
                db.session,
                organisation,
                email=email,
                purpose="Teacher",
                language="en",
                actor="operator",
                now=now,
            )
            ids[f"request_{organisation.name[-1].lower()}"] = request.id
        db.session.commit()
        ids["organisation"], ids["api_key"], ids["webhook"] = org_a.id, spare.id, hook.id
    for role, email in MEMBER_EMAILS.items():
        kind = "id-checker" if role == "id_checker" else "employer"
        ids[role] = _user(
            app, email, kind, None, ids["org_b" if role == "other_employer" else "org_a"]
        )
    return key


def _bearer(app: Flask, user_id: str) -> dict[str, str]:
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        token = issue_token(db.session, user, ttl=timedelta(hours=2), now=utcnow())
        db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def _logged_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    response = web_login(app, client, email, PASSWORD)
    assert response.status_code == 303, response.get_data(as_text=True)
    assert response.headers["Location"] != "/login"
    return client


def _file(app: Flask, client: FlaskClient, headers: dict[str, str], body: dict[str, Any]) -> str:
    response = client.post("/api/v1/applications", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def _check(app: Flask, application_id: str, country: str) -> str:
    with app.app_context():
        return db.session.scalars(
            select(Check.id).where(Check.application_id == application_id, Check.country == country)
        ).one()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("access")
    with fresh_database(tmp) as database_url:
        app = create_app(
            {
                "TESTING": True,
                "INSTANCE_PATH": str(tmp / "instance"),
                "DATABASE_URL": database_url,
                "SECRET_KEY": "test-secret",
                "BASE_URL": AUDIENCE,
                "SANDBOX_COUNTRIES": SANDBOX,
                "IDENTITY_PROOFING": "sandbox",
                "JOBS_ENABLED": False,
                "RETRY_BASE_SECONDS": 0,
                "RETRY_MAX_SECONDS": 0,
                "WTF_CSRF_ENABLED": False,
                "RATELIMIT_ENABLED": False,
            }
        )
        with app.app_context():
            if db.engine.dialect.name == "sqlite":
                # one thread here: a lock is never worth the service's 30 s wait (see
                # test_metrics_counts_checks_for_a_logged_in_browser)
                event.listen(db.engine, "connect", _short_busy_timeout)
                db.engine.dispose()
            db.drop_all()
            db.create_all()
        try:
            yield _build_world(app)
        finally:
            with app.app_context():
                db.session.remove()
                db.drop_all()
                db.engine.dispose()


def _short_busy_timeout(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA busy_timeout=500")
    cursor.close()


def _build_world(app: Flask) -> World:
    setup = app.test_client()
    ids: dict[str, str] = {}

    # KE and TH answer in the portal; their systems may also use the agency API
    agencies: dict[str, AgencySystem] = {}
    with app.app_context():
        for country in ("KE", "TH"):
            key = ec.generate_private_key(ec.SECP256R1())
            agency = add_agency(
                db.session,
                country=country,
                name=f"{country} Records Office",
                mode="portal",
                public_key_pem=_pem(key),
            )
            db.session.flush()
            agencies[country] = AgencySystem(agency.id, key)
        db.session.commit()

    people = {
        "applicant": ("ada@example.org", "applicant", None),
        "other_applicant": ("bob@example.org", "applicant", None),
        "officer_ke": ("officer.ke@example.org", "agency-officer", "KE"),
        "officer_th": ("officer.th@example.org", "agency-officer", "TH"),
        "admin": ("admin@example.org", "admin", None),
    }
    for role, (email, kind, country) in people.items():
        ids[role] = _user(app, email, kind, country)
    ids["admin2"] = _user(app, "admin2@example.org", "admin")
    bearers = {role: _bearer(app, ids[role]) for role in people}

    # A's application in progress: KE and TH queries open, NG answered by the sandbox
    ids["in_progress"] = _file(app, setup, bearers["applicant"], application_body())
    drain(app)
    ids["ke_query"] = _check(app, ids["in_progress"], "KE")
    ids["th_query"] = _check(app, ids["in_progress"], "TH")
    with app.app_context():
        check = db.session.get(Check, ids["ke_query"])
        assert check is not None
        assert check.status == "sent"
        question = ask_question(
            db.session,
            check,
            question="Your father's name?",
            now=utcnow(),
            actor=f"user:{ids['officer_ke']}",
        )
        db.session.commit()
        ids["question"] = question.id

    # A's application whose KE and TH checks failed
    ids["failed_app"] = _file(app, setup, bearers["applicant"], application_body("Second"))
    with app.app_context():
        for check in db.session.scalars(
            select(Check).where(
                Check.application_id == ids["failed_app"], Check.country.in_(("KE", "TH"))
            )
        ):
            check.status = "failed"
            check.attempts = 5
            check.next_attempt_at = None
            check.last_error = "agency answered HTTP 500 three times"
        db.session.commit()
    drain(app)
    ids["failed_ke"] = _check(app, ids["failed_app"], "KE")
    ids["failed_th"] = _check(app, ids["failed_app"], "TH")

    # A's completed application: KE answered through the agency API, the certificate issued
    ids["complete"] = _file(
        app,
        setup,
        bearers["applicant"],
        application_body("Third", residences=[{"country": "KE", "from": "2012-09", "to": None}]),
    )
    drain(app)
    ids["answered_ke"] = _check(app, ids["complete"], "KE")
    answered = setup.post(
        f"/api/v1/agency/queries/{ids['answered_ke']}/answer",
        json={"outcome": "no_record", "records": []},
        headers=agencies["KE"].headers(),
    )
    assert answered.status_code == 200, answered.get_json()
    drain(app)
    with app.app_context():
        application = db.session.get(Application, ids["complete"])
        assert application is not None
        assert application.status == "complete"
        assert application.current_certificate is not None
        certificate = application.current_certificate
        ids["certificate"] = certificate.id

        # an approval asked by one admin and already rejected by the other
        admin, admin2 = db.session.get(User, ids["admin"]), db.session.get(User, ids["admin2"])
        assert admin is not None
        assert admin2 is not None
        action = approvals.request_revocation(
            db.session, certificate, reason="Reported stolen", requester=admin2, now=utcnow()
        )
        db.session.flush()
        approvals.reject(db.session, action.id, decider=admin, now=utcnow(), note="Not so")
        db.session.commit()
        ids["decided_action"] = action.id
    ids["email_token"] = "not-a-token-the-service-made"
    ids["oidc_provider"] = "no-such-provider"  # the walk's world configures none
    ids["candidate_request"] = "0" * 32  # the candidate's pages: a request nobody sent
    org_key = _organisations(app, ids)

    callers: dict[str, Caller] = {"anonymous": Caller(app.test_client(), dict)}
    for role, (email, _kind, _country) in people.items():
        headers = bearers[role]
        callers[role] = Caller(_logged_in(app, email), lambda h=headers: dict(h))
    for country in ("KE", "TH"):
        callers[f"agency_{country.lower()}"] = Caller(app.test_client(), agencies[country].headers)
    for role in MEMBERS:
        headers = _bearer(app, ids[role])
        callers[role] = Caller(_logged_in(app, MEMBER_EMAILS[role]), lambda h=headers: dict(h))
    callers["org_key"] = Caller(app.test_client(), lambda: {"Authorization": f"Bearer {org_key}"})

    def logout_caller(role: str) -> Callable[[], Caller]:
        """A throw-away user of the role: logging out ends every session of the account."""
        if role in MEMBERS:
            kind = "id-checker" if role == "id_checker" else "employer"
            organisation: str | None = ids["org_b" if role == "other_employer" else "org_a"]
            country = None
        elif role in people:
            _email, kind, country = people[role]
            organisation = None
        else:
            return lambda: Caller(app.test_client(), callers[role].headers)

        def build() -> Caller:
            email = f"bye.{secrets.token_hex(4)}@example.org"
            user_id = _user(app, email, kind, country, organisation)
            headers = _bearer(app, user_id)
            return Caller(_logged_in(app, email), lambda: dict(headers))

        return build

    return World(app, callers, {role: logout_caller(role) for role in ROLES}, ids)


# --- the requests the walker makes


JSON_BLUEPRINTS = (
    "auth_api",
    "applications_api",
    "agency_api",
    "verify_api",
    "openapi",
    "identity_api",
    "organisations_api",
)

#: Path parameters by name; REQUESTS may choose other objects for one endpoint.
DEFAULT_VALUES = {
    "application_id": "in_progress",
    "check_id": "ke_query",
    "question_id": "question",
    "certificate_id": "certificate",
    "action_id": "decided_action",
    "token": "email_token",
    "organisation_id": "organisation",
    "key_id": "api_key",
    "request_id": "candidate_request",
    "webhook_id": "webhook",
    "provider": "oidc_provider",
}

#: (endpoint, method) -> (path parameters as world ids, body). The bodies are minimal: a
#: role that is let in gets a page, a preview, a 400 about the body or a 409, and nothing
#: changes, except admin_checks.retry (the failed TH check is queued again).
REQUESTS: dict[tuple[str, str], tuple[dict[str, str], dict[str, Any] | None]] = {
    ("applications.certificate_pdf", "GET"): ({"application_id": "complete"}, None),
    ("applications_api.certificate_pdf", "GET"): ({"application_id": "complete"}, None),
    # only an application in progress can be withdrawn: the owner gets a 409
    ("applications_api.withdraw_application", "POST"): ({"application_id": "complete"}, {}),
    ("agency.answer", "POST"): ({}, {"outcome": "no_record"}),  # the confirmation step
    ("admin_checks.answer", "GET"): ({"check_id": "failed_ke"}, None),
    ("admin_checks.answer", "POST"): ({"check_id": "failed_ke"}, {"outcome": "no_record"}),
    ("admin_checks.retry", "POST"): ({"check_id": "failed_th"}, {}),
    ("admin_certificates.search", "POST"): ({}, {"number": "@certificate"}),
    # the same answer again is accepted and changes nothing
    ("agency_api.answer_query", "POST"): (
        {"check_id": "answered_ke"},
        {"outcome": "no_record", "records": []},
    ),
}


def _path(world: World, endpoint: str, method: str) -> str:
    overrides, _body = REQUESTS.get((endpoint, method), ({}, None))
    rule = next(
        r for r in world.app.url_map.iter_rules() if r.endpoint == endpoint and method in r.methods
    )
    values: dict[str, str] = {}
    for argument in rule.arguments:
        if argument == "filename":
            values[argument] = "style.css"
        else:
            values[argument] = world.ids[overrides.get(argument, DEFAULT_VALUES[argument])]
    with world.app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **values)


def _filled(world: World, value: Any) -> Any:
    """A body value; ``"@name"`` stands for the world's id of that name."""
    if isinstance(value, str) and value.startswith("@"):
        return world.ids[value[1:]]
    return value


def _request(world: World, caller: Caller, endpoint: str, method: str) -> TestResponse:
    path = _path(world, endpoint, method)
    _params, body = REQUESTS.get((endpoint, method), ({}, None))
    kwargs: dict[str, Any] = {"headers": caller.headers()}
    if method != "GET":
        body = {k: _filled(world, v) for k, v in (body or {}).items()}
        if endpoint.split(".")[0] in JSON_BLUEPRINTS:
            kwargs["json"] = body
        else:
            kwargs["data"] = body
    return caller.client.open(path, method=method, **kwargs)


def outcome_of(response: TestResponse) -> str:
    """The class of an answer, in the policy's words."""
    status = response.status_code
    if status in (301, 302, 303, 307, 308):
        location = response.headers.get("Location", "")
        return LOGIN if location.split("?")[0].endswith("/login") else ALLOWED
    if status == 401:
        return UNAUTHORIZED
    if status == 403:
        return FORBIDDEN
    if status == 404:
        return NOT_FOUND
    if status < 300 or status in (400, 409):
        return ALLOWED
    return f"unexpected {status}"


def snapshot(app: Flask) -> dict[str, Any]:
    """What a refused request must not change (audit events aside)."""
    with app.app_context():
        session = db.session
        state = {
            "applications": sorted(
                session.execute(
                    select(
                        Application.id,
                        Application.user_id,
                        Application.status,
                        Application.withdrawn_at,
                    )
                ).all()
            ),
            "checks": sorted(
                session.execute(
                    select(
                        Check.id,
                        Check.status,
                        Check.outcome,
                        Check.paused_at,
                        Check.next_attempt_at,
                    )
                ).all(),
                key=str,
            ),
            "certificates": sorted(
                session.execute(select(Certificate.id, Certificate.revoked_at)).all(), key=str
            ),
            "actions": sorted(
                session.execute(select(PendingAction.id, PendingAction.decision)).all(), key=str
            ),
            "questions": sorted(
                session.execute(select(CheckQuestion.id, CheckQuestion.replied_at)).all(), key=str
            ),
            "users": sorted(
                session.execute(
                    select(User.id, User.role, User.country, User.active, User.session_epoch)
                ).all(),
                key=str,
            ),
            "tokens": session.scalar(select(func.count()).select_from(ApiToken)),
            "agencies": sorted(session.execute(select(Agency.id, Agency.enabled)).all()),
            "api_keys": sorted(
                session.execute(select(ApiKey.id, ApiKey.revoked_at)).all(), key=str
            ),
            "webhooks": sorted(
                session.execute(select(Webhook.id, Webhook.disabled_at)).all(), key=str
            ),
            "requests": sorted(
                session.execute(select(CandidateRequest.id, CandidateRequest.status)).all()
            ),
        }
        session.rollback()
        return state


# --- the tests


def test_every_route_has_a_policy(world: World) -> None:
    routes = {
        (rule.endpoint, method)
        for rule in world.app.url_map.iter_rules()
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    missing = sorted(routes - set(POLICY))
    assert not missing, f"routes without an access policy (add them to POLICY): {missing}"
    stale = sorted(set(POLICY) - routes)
    assert not stale, f"POLICY names routes that no longer exist: {stale}"
    for key, policy in POLICY.items():
        assert set(policy) == set(ROLES), key


CASES = [
    pytest.param(
        endpoint,
        method,
        role,
        id=f"{endpoint}-{method}-{role}",
        marks=(
            [pytest.mark.xfail(strict=True, reason=KNOWN_WRONG[(endpoint, method, role)])]
            if (endpoint, method, role) in KNOWN_WRONG
            else []
        ),
    )
    for (endpoint, method), policy in POLICY.items()
    for role in policy
]


@pytest.mark.parametrize(("endpoint", "method", "role"), CASES)
def test_route_answers_each_role_as_documented(
    world: World, endpoint: str, method: str, role: str
) -> None:
    expected = POLICY[(endpoint, method)][role]
    if (endpoint, method) == ("auth.logout", "POST"):
        caller = world.logout_callers[role]()
    else:
        caller = world.callers[role]
    before = snapshot(world.app) if expected != ALLOWED else None
    response = _request(world, caller, endpoint, method)
    text = response.get_data().decode(errors="replace")
    response.close()  # a static file's handle
    observed = outcome_of(response)
    assert observed == expected, (
        f"{method} {endpoint} as {role}: expected {expected}, got {response.status_code} "
        f"{response.headers.get('Location', '')} {text[:300]}"
    )
    if before is not None:
        assert snapshot(world.app) == before, f"refused {method} {endpoint} as {role} changed data"


def test_allowed_roles_see_only_their_own(world: World) -> None:
    """Lists show a caller their own objects only."""
    ids, callers = world.ids, world.callers
    other = callers["other_applicant"]
    assert ids["in_progress"] not in other.client.get("/applications").get_data(as_text=True)
    listed = other.client.get("/api/v1/applications", headers=other.headers()).get_json()
    assert listed == {"applications": []}
    own = callers["applicant"]
    listed = own.client.get("/api/v1/applications", headers=own.headers()).get_json()
    assert ids["in_progress"] in {a["id"] for a in listed["applications"]}

    th_portal = callers["officer_th"].client.get("/portal").get_data(as_text=True)
    assert ids["th_query"] in th_portal
    assert ids["ke_query"] not in th_portal
    ke_portal = callers["officer_ke"].client.get("/portal").get_data(as_text=True)
    assert ids["ke_query"] in ke_portal
    assert ids["th_query"] not in ke_portal

    for country, own_query, foreign in (
        ("ke", "ke_query", "th_query"),
        ("th", "th_query", "ke_query"),
    ):
        agency = callers[f"agency_{country}"]
        queries = agency.client.get("/api/v1/agency/queries", headers=agency.headers()).get_json()
        seen = {q["id"] for q in queries["queries"]}
        assert ids[own_query] in seen
        assert ids[foreign] not in seen


def test_employers_see_only_their_own_organisations_requests(world: World) -> None:
    """By page, by bearer token and by API key: A's employer sees A's requests, B's sees B's."""
    callers = world.callers
    for role, own, foreign in (
        ("employer", "candidate.a@example.org", "candidate.b@example.org"),
        ("other_employer", "candidate.b@example.org", "candidate.a@example.org"),
    ):
        caller = callers[role]
        page = caller.client.get("/employer").get_data(as_text=True)
        assert own in page, role
        assert foreign not in page, role
        listed = caller.client.get("/api/v1/requests", headers=caller.headers()).get_json()
        assert [r["email"] for r in listed["requests"]] == [own], role
    key = callers["org_key"]
    listed = key.client.get("/api/v1/requests", headers=key.headers()).get_json()
    assert [r["email"] for r in listed["requests"]] == ["candidate.a@example.org"]
    # B's employer cannot act on A's keys and webhooks, by page or by API
    other = callers["other_employer"]
    org_a, spare = world.ids["org_a"], world.ids["api_key"]
    for response in (
        other.client.post(f"/employer/api-keys/{spare}/revoke"),
        other.client.post(f"/employer/webhooks/{world.ids['webhook']}/disable"),
        other.client.delete(
            f"/api/v1/organisations/{org_a}/api-keys/{spare}", headers=other.headers()
        ),
        other.client.post(f"/api/v1/organisations/{org_a}/api-keys", headers=other.headers()),
        other.client.delete(f"/api/v1/webhooks/{world.ids['webhook']}", headers=other.headers()),
    ):
        assert response.status_code == 404, response.request.path
    assert "spare" not in other.client.get("/employer/access").get_data(as_text=True)


def test_api_ignores_session_cookies(world: World) -> None:
    """A logged-in browser session is no credential for the JSON API (no CSRF through it)."""
    for role in HUMAN_ROLES:
        client = world.callers[role].client
        assert client.get("/api/v1/applications").status_code == 401, role
        path = f"/api/v1/applications/{world.ids['in_progress']}"
        assert client.get(path).status_code == 401, role
        assert client.get("/api/v1/agency/queries").status_code == 401, role


# --- mass assignment: clients cannot set fields they do not own


def _count(app: Flask, model: Any) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize(
    ("extra", "value"),
    [
        ("status", "complete"),
        ("user_id", "someone-else"),
        ("checks", [{"country": "KE", "status": "answered", "outcome": "no_record"}]),
        ("certificate", {"id": "IPC-FORGED"}),
        ("outcome", "no_record"),
        ("id", "chosen-id"),
    ],
)
def test_api_filing_refuses_fields_the_client_does_not_own(
    world: World, extra: str, value: Any
) -> None:
    caller = world.callers["applicant"]
    before = _count(world.app, Application)
    body = application_body("Mass", **{extra: value})
    response = caller.client.post("/api/v1/applications", json=body, headers=caller.headers())
    assert response.status_code == 400, response.get_json()
    assert extra in response.get_json()["error"]["fields"]
    assert _count(world.app, Application) == before


def test_api_filing_refuses_owner_fields_inside_the_applicant(world: World) -> None:
    caller = world.callers["applicant"]
    before = _count(world.app, Application)
    body = application_body("Mass")
    body["applicant"]["user_id"] = world.ids["other_applicant"]
    response = caller.client.post("/api/v1/applications", json=body, headers=caller.headers())
    assert response.status_code == 400
    assert "applicant.user_id" in response.get_json()["error"]["fields"]
    assert _count(world.app, Application) == before


@pytest.mark.parametrize(
    ("extra", "value"),
    [
        ("status", "answered"),
        ("country", "KE"),
        ("application_id", "x"),
        ("check_id", "x"),
        ("answered_at", "2020-01-01T00:00:00Z"),
    ],
)
def test_agency_answer_refuses_extra_fields(world: World, extra: str, value: Any) -> None:
    caller = world.callers["agency_th"]
    query = world.ids["th_query"]
    before = snapshot(world.app)
    response = caller.client.post(
        f"/api/v1/agency/queries/{query}/answer",
        json={"outcome": "no_record", "records": [], extra: value},
        headers=caller.headers(),
    )
    assert response.status_code == 400, response.get_json()
    assert extra in response.get_json()["error"]["fields"]
    assert snapshot(world.app) == before
    assert world.get(Check, query).status == "sent"


def test_account_api_refuses_role_and_country(world: World) -> None:
    client = world.app.test_client()
    for extra, value in (("role", "admin"), ("country", "KE"), ("active", True)):
        email = f"mass.{extra}@example.org"
        response = client.post(
            "/api/v1/accounts",
            json={"email": email, "password": PASSWORD, "name": "Mass", extra: value},
        )
        assert response.status_code == 400, response.get_json()
        assert extra in response.get_json()["error"]["fields"]
        with world.app.app_context():
            assert db.session.scalars(select(User).where(User.email == email)).first() is None


def test_signup_form_ignores_role_and_country(world: World) -> None:
    client = world.app.test_client()
    email = "mass.signup@example.org"
    response = client.post(
        "/signup",
        data={
            "name": "Mass",
            "email": email,
            "password": PASSWORD,
            "confirm": PASSWORD,
            "password_confirm": PASSWORD,
            "role": "admin",
            "country": "KE",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    with world.app.app_context():
        user = db.session.scalars(select(User).where(User.email == email)).one()
        assert (user.role, user.country) == ("applicant", None)
    logged_in = client.post("/login", data={"email": email, "password": PASSWORD})
    assert logged_in.status_code == 303
    assert client.get("/admin/checks").status_code == 403
    assert client.get("/portal").status_code == 403


def test_filing_form_ignores_status_and_owner(world: World) -> None:
    caller = world.callers["applicant"]
    response = caller.client.post(
        "/applications/new",
        data=form_data(
            family_name="Formmass",
            submission="mass-assignment-0001",
            status="complete",
            user_id=world.ids["other_applicant"],
            id="chosen-id",
            outcome="no_record",
            completed_at="2020-01-01T00:00:00",
        ),
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    application_id = response.headers["Location"].rsplit("/", 1)[1]
    assert application_id != "chosen-id"
    application = world.get(Application, application_id)
    assert application.user_id == world.ids["applicant"]
    assert application.status == "in_progress"
    assert application.completed_at is None
    with world.app.app_context():
        outcomes = db.session.scalars(
            select(Check.outcome).where(Check.application_id == application_id)
        ).all()
        assert all(outcome is None for outcome in outcomes)


def test_reply_form_cannot_redirect_to_another_question_or_owner(world: World) -> None:
    """Extra fields in a reply change neither the question's check nor who asked."""
    caller = world.callers["other_applicant"]
    response = caller.client.post(
        f"/applications/{world.ids['in_progress']}/questions/{world.ids['question']}/reply",
        data={"reply": "Not my application", "user_id": world.ids["other_applicant"]},
    )
    assert response.status_code == 404
    question = world.get(CheckQuestion, world.ids["question"])
    assert question.reply is None
    assert question.check_id == world.ids["ke_query"]


# --- found while walking: /metrics used a second session that waited on the request's own


def test_metrics_counts_checks_for_a_logged_in_browser(world: World) -> None:
    anonymous = world.callers["anonymous"].client.get("/metrics").get_data(as_text=True)
    assert "ipc_checks{" in anonymous
    admin = world.callers["admin"].client.get("/metrics").get_data(as_text=True)
    assert "ipc_checks{" in admin


# --- caching: no answer that can hold personal data may be kept by a browser or a proxy

#: Views whose answers hold nothing personal: caches may keep them (``caching.shareable``).
SHAREABLE_ROUTES = {"static", "openapi.openapi_json", "verify_api.published_keys"}

#: Routes that must answer their allowed roles with personal data (audit finding 7): the walk
#: proves these were really seen, not only refused.
PERSONAL_ROUTES = {
    ("applications.dashboard", "GET"),
    ("applications.progress", "GET"),
    ("applications.certificate_pdf", "GET"),
    ("applications_api.read", "GET"),
    ("applications_api.list_applications", "GET"),
    ("applications_api.certificate_pdf", "GET"),
    ("agency.index", "GET"),
    ("agency.query", "GET"),
    ("admin_checks.index", "GET"),
    ("admin_checks.answer", "GET"),
    ("admin_certificates.index", "GET"),
    ("admin_certificates.search", "POST"),
    ("admin_approvals.show", "GET"),
    ("agency_api.list_queries", "GET"),
    ("employer.index", "GET"),
    ("employer.access", "GET"),
    ("organisations_api.list_requests", "GET"),
}


def test_personal_answers_are_never_stored(world: World) -> None:
    """Every route under every role: ``Cache-Control: no-store`` unless the view is public.

    The auditor found the application pages, the portal's query page (passport
    number), the admin pages and ``GET /api/v1/applications/{id}`` cacheable.
    """
    seen_personal: set[tuple[str, str]] = set()
    for (endpoint, method), policy in POLICY.items():
        if (endpoint, method) in (("auth.logout", "POST"), ("admin_checks.retry", "POST")):
            continue  # change state; their answers are redirects without content
        for role, expected in policy.items():
            response = _request(world, world.callers[role], endpoint, method)
            response.close()
            cache_control = response.headers.get("Cache-Control", "")
            if endpoint in SHAREABLE_ROUTES:
                assert "no-store" not in cache_control, (endpoint, role)
                continue
            assert cache_control == "no-store", (endpoint, method, role, response.status_code)
            if expected == ALLOWED and response.status_code == 200:
                seen_personal.add((endpoint, method))
    assert seen_personal >= PERSONAL_ROUTES, sorted(PERSONAL_ROUTES - seen_personal)
