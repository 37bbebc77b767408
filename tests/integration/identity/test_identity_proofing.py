"""Identity before any agency is asked: the held state, the sandbox rule, the claims, and
(as a real process) no agency channel seeing anything before the e-mail and the identity."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from certificate import create_app
from certificate.agency.service import add_agency, open_queries
from certificate.auth.service import create_user
from certificate.checks.models import Check
from certificate.config import ConfigError
from certificate.db import db
from tests.conftest import application_body, drain, signup_and_token, web_login
from tests.integration.agency.test_agency_live import _start_simulator, _write_key_pair, wait_for
from tests.live import free_port, live_service
from tests.mail import body_of, smtp_server


def _file(client: FlaskClient, auth: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/applications", json=body, headers=auth)
    assert response.status_code == 201, response.get_json()
    result: dict[str, Any] = response.get_json()
    return result


def _checks(app: Flask, application_id: str) -> list[Check]:
    with app.app_context():
        return list(db.session.scalars(select(Check).where(Check.application_id == application_id)))


@pytest.fixture
def required_app(app_config: dict[str, Any], make_app: Callable[[dict[str, Any]], Flask]) -> Flask:
    app_config["IDENTITY_PROOFING"] = "required"
    return make_app(app_config)


@pytest.fixture
def required(required_app: Flask) -> Flask:
    with required_app.app_context():
        db.drop_all()
        db.create_all()
        add_agency(db.session, country="KE", name="Kenya Police (portal)", mode="portal")
        db.session.commit()
    return required_app


def test_required_mode_holds_the_application_and_no_agency_sees_it(required: Flask) -> None:
    client = required.test_client()
    auth = signup_and_token(client)
    filed = _file(client, auth, application_body())
    assert filed["status"] == "awaiting_identity"
    identity = filed["identity"]
    assert identity["status"] == "pending"
    assert re.fullmatch(r"[A-Z0-9]{8}", identity["code"])
    assert (identity["method"], identity["confirmed_at"]) == (None, None)
    assert {c["status"] for c in filed["checks"]} == {"queued"}

    drain(required)  # the sweeper finds nothing due: the checks are held

    again = client.get(f"/api/v1/applications/{filed['id']}", headers=auth).get_json()
    assert again["status"] == "awaiting_identity"
    assert {c["status"] for c in again["checks"]} == {"queued"}
    for check in _checks(required, filed["id"]):
        assert (check.attempts, check.sent_at, check.next_attempt_at) == (0, None, None)
    with required.app_context():
        assert open_queries(db.session, "KE") == []
        create_user(
            db.session,
            email="officer.ke@example.org",
            password="officer-password",
            name="Officer",
            role="agency-officer",
            country="KE",
        )
        db.session.commit()
    officer = required.test_client()
    web_login(required, officer, "officer.ke@example.org", "officer-password")
    portal = officer.get("/portal")
    assert portal.status_code == 200
    assert "There are no open queries" in portal.get_data(as_text=True)


def test_the_code_is_the_owners_alone(required: Flask) -> None:
    client = required.test_client()
    owner = signup_and_token(client)
    filed = _file(client, owner, application_body())
    other = signup_and_token(client, "someone@example.org")
    assert client.get(f"/api/v1/applications/{filed['id']}", headers=other).status_code == 404
    listed = client.get("/api/v1/applications", headers=other).get_json()["applications"]
    assert listed == []


def test_an_application_awaiting_identity_can_be_withdrawn(required: Flask) -> None:
    client = required.test_client()
    auth = signup_and_token(client)
    filed = _file(client, auth, application_body())
    response = client.post(f"/api/v1/applications/{filed['id']}/withdraw", headers=auth)
    assert response.status_code == 200
    assert response.get_json()["status"] == "withdrawn"


def test_sandbox_confirms_at_once_and_the_certificate_says_how(
    app: Flask, client: FlaskClient, auth: dict[str, str]
) -> None:
    filed = _file(client, auth, application_body())
    assert filed["status"] == "in_progress"
    assert filed["identity"]["status"] == "confirmed"
    assert filed["identity"]["method"] == "sandbox"
    assert filed["identity"]["confirmed_at"]
    drain(app)
    done = client.get(f"/api/v1/applications/{filed['id']}", headers=auth).get_json()
    assert done["status"] == "complete"
    token = done["certificate"]["verify_url"].split("#", 1)[1]
    claims = client.post("/api/v1/verify", json={"token": token}).get_json()["certificate"]
    assert claims["idm"] == "sandbox"
    assert "idb" not in claims


def test_sandbox_refuses_an_impostor_and_no_agency_ever_sees_it(
    app: Flask, client: FlaskClient, auth: dict[str, str]
) -> None:
    filed = _file(client, auth, application_body("IMPOSTOR Smith"))
    assert filed["status"] == "identity_refused"
    assert filed["identity"]["status"] == "refused"
    assert filed["identity"]["confirmed_at"] is None
    drain(app)
    done = client.get(f"/api/v1/applications/{filed['id']}", headers=auth).get_json()
    assert done["status"] == "identity_refused"
    assert done["certificate"] is None
    for check in _checks(app, filed["id"]):
        assert (check.status, check.attempts, check.sent_at) == ("queued", 0, None)


def test_the_progress_page_shows_the_code_while_waiting(required: Flask) -> None:
    client = required.test_client()
    signup_and_token(client)
    auth = signup_and_token(client, "page@example.org")
    filed = _file(client, auth, application_body())
    web_login(required, client, "page@example.org", "correct horse battery")
    page = client.get(f"/applications/{filed['id']}").get_data(as_text=True)
    assert filed["identity"]["code"] in page
    assert "No agency is asked anything about you" in page


def test_an_unknown_proofing_mode_stops_the_start(app_config: dict[str, Any]) -> None:
    app_config["IDENTITY_PROOFING"] = "optional"
    with pytest.raises(ConfigError, match="IPC_IDENTITY_PROOFING"):
        create_app(app_config)


def _link_in(message: Any, path: str) -> str:
    found = re.search(rf"https?://[^/\s]+({re.escape(path)}\S+)", body_of(message))
    assert found, body_of(message)
    return found.group(1)


@pytest.mark.slow
def test_no_channel_sees_an_application_before_its_email_and_identity(tmp_path: Path) -> None:
    """In ``required`` mode, over real HTTP against the service as a process: the agency API,
    the officers' portal and a push agency (a simulator process) see nothing of an application
    whose owner has not verified their address (though an ID checker confirmed them), nor of one
    whose address is verified but whose identity waits; each sees it once both hold."""
    with (
        smtp_server() as inbox,
        live_service(
            tmp_path,
            IDENTITY_PROOFING="required",
            SANDBOX_COUNTRIES="NG",
            SMTP_URL=f"smtp://127.0.0.1:{inbox.port}",  # type: ignore[attr-defined]
            OUTBOX_RETRY_SCALE="0.01",
            CHECK_DEADLINE_SECONDS="600",
        ) as service,
    ):

        def last_line(*args: str) -> str:
            done = service.command(*args)
            assert done.returncode == 0, done.stderr
            return done.stdout.strip().splitlines()[-1]

        # Kenya answers in the portal, Germany through its own system, Austria takes pushes
        last_line(
            "agencies", "add", "--country", "KE", "--name", "Kenya Police", "--mode", "portal"
        )
        de_key, de_public = _write_key_pair(tmp_path, "DE", "ec")
        germany = last_line(
            "agencies", "add", "--country", "DE", "--name", "BfJ", "--mode", "api",
            "--public-key", str(de_public),
        )  # fmt: skip
        at_port = free_port()
        _, at_public = _write_key_pair(tmp_path, "AT", "ed25519")
        austria = last_line(
            "agencies", "add", "--country", "AT", "--name", "LPD Wien", "--mode", "push",
            "--public-key", str(at_public), "--endpoint", f"http://127.0.0.1:{at_port}/queries",
        )  # fmt: skip
        simulator = _start_simulator(
            tmp_path, at_port, austria, service.base_url, ["--mode", "push", "--behaviour", "now"]
        )
        try:
            last_line(
                "users", "create", "--email", "officer.ke@example.org", "--password",
                "officer password", "--role", "agency-officer", "--country", "KE",
            )  # fmt: skip
            organisation = last_line("organisations", "add", "--name", "Test NGO")
            last_line(
                "users", "create", "--email", "checker@ngo.example", "--password",
                "checker password", "--role", "id-checker", "--organisation", organisation,
            )  # fmt: skip
            officer = service.browser("officer.ke@example.org", "officer password")
            checker = service.client()
            token = checker.post(
                "/api/v1/tokens",
                json={"email": "checker@ngo.example", "password": "checker password"},
            ).json()["access_token"]
            checker.headers["Authorization"] = f"Bearer {token}"

            residences = [
                {"country": country, "from": f"{2010 + i}-01", "to": f"{2010 + i}-12"}
                for i, country in enumerate(("KE", "DE", "AT"))
            ]
            filed: dict[str, dict[str, Any]] = {}
            for email, name in (
                ("unverified@example.org", "Okafor"),
                ("verified@example.org", "Mensah"),
            ):
                http = service.applicant(email)
                answer = http.post(
                    "/api/v1/applications", json=application_body(name, residences=residences)
                )
                assert answer.status_code == 201, answer.text
                assert answer.json()["status"] == "awaiting_identity"
                filed[email] = answer.json()
            # one verifies their address, the other's identity is confirmed in person
            (check_mail,) = inbox.wait_for("verified@example.org")
            assert service.client().get(_link_in(check_mail, "/email/verify/")).status_code == 200
            seen = {"type": "passport", "number": "A1234567", "issuing_country": "NG"}

            def confirm(email: str) -> None:
                code = filed[email]["identity"]["code"]
                answer = checker.post(
                    "/api/v1/identity-checks",
                    json={"code": code, "decision": "confirmed", "documents_seen": [seen]},
                )
                assert answer.status_code == 200, answer.text

            confirm("unverified@example.org")

            checks = {
                email: dict(
                    service.query(
                        "SELECT country, id FROM checks WHERE application_id = :a", a=body["id"]
                    )
                )
                for email, body in filed.items()
            }

            def channels() -> dict[str, set[str]]:
                api = service.agency_queries(germany, de_key)
                portal = officer.get("/portal")
                assert portal.status_code == 200
                ke_checks = {c["KE"] for c in checks.values()}
                return {
                    "api": {q["id"] for q in api},
                    "portal": {c for c in ke_checks if c in portal.text}
                    | {
                        c
                        for c in ke_checks
                        if officer.get(f"/portal/queries/{c}").status_code == 200
                    },
                    "push": {p["query_id"] for p in simulator.log()["pushes"]},
                }

            def sees(email: str) -> dict[str, bool]:
                found = channels()
                mine = checks[email]
                return {
                    "api": mine["DE"] in found["api"],
                    "portal": mine["KE"] in found["portal"],
                    "push": mine["AT"] in found["push"],
                }

            time.sleep(2)  # ten sweeps of the service: anything due would have gone out
            assert channels() == {"api": set(), "portal": set(), "push": set()}
            for held in checks.values():
                assert officer.get(f"/portal/queries/{held['KE']}").status_code == 404
            attempts = service.query("SELECT DISTINCT status, attempts FROM checks")
            assert attempts == [("queued", 0)]  # the sandbox's Nigeria was not asked either

            # the identity of the verified account is confirmed: every channel sees it, only it
            confirm("verified@example.org")
            everywhere = {"api": True, "portal": True, "push": True}
            wait_for("the channels to see it", lambda: sees("verified@example.org") == everywhere)
            assert sees("unverified@example.org") == {"api": False, "portal": False, "push": False}

            # the other address is verified at last: its application is released too
            (check_mail,) = inbox.wait_for("unverified@example.org")
            assert service.client().get(_link_in(check_mail, "/email/verify/")).status_code == 200
            wait_for("the channels to see it", lambda: sees("unverified@example.org") == everywhere)
        finally:
            simulator.stop()
