"""An employer's whole journey on loopback, every part a real process or server.

The service runs as a process (``flask run``) with ``IPC_IDENTITY_PROOFING=required``;
the operator's commands run as subprocesses; mail goes to a real SMTP server (aiosmtpd);
the employer's webhook receiver is a real HTTP server; the national agency is the test
calling the agency API over HTTP with its own signed assertions. Two outages are part of
the journey: the SMTP server is down when the first messages leave, and the receiver is
first failing, then down, when an event is due.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook as StandardWebhook

from tests.conftest import application_body
from tests.integration.agency.test_agency_live import _write_key_pair, wait_for
from tests.integration.identity.test_identity_proofing import _link_in
from tests.live import LiveService, agency_token, free_port, live_service
from tests.mail import Inbox, body_of, smtp_server
from tests.webhook_receiver import Receiver, webhook_receiver

pytestmark = pytest.mark.slow

CANDIDATE = "ada.okafor@example.org"
PASSPORT = {"type": "passport", "number": "A1234567", "issuing_country": "NG"}


def _last_line(service: LiveService, *args: str) -> str:
    done = service.command(*args)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def _bearer(service: LiveService, email: str, password: str) -> httpx.Client:
    http = service.client()
    token = http.post("/api/v1/tokens", json={"email": email, "password": password})
    assert token.status_code == 200, token.text
    http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    return http


def _outbox(service: LiveService, channel: str, topic: str) -> list[tuple[Any, ...]]:
    """(id, attempts, sent) of the outbox's rows of one kind."""
    return service.query(
        "SELECT id, attempts, sent_at IS NOT NULL FROM outbox_messages "
        "WHERE channel = :channel AND topic = :topic",
        channel=channel,
        topic=topic,
    )


def _events(receiver: Receiver, secret: str) -> list[tuple[str, dict[str, Any]]]:
    """(webhook-id, payload) of each accepted delivery, its signature checked by the
    Standard Webhooks reference implementation."""
    verifier = StandardWebhook(secret)
    return [
        (d.headers["webhook-id"], verifier.verify(d.body, d.headers)) for d in receiver.accepted()
    ]


def test_an_employer_asks_a_candidate_checks_them_hears_of_revocation_and_loses_sight(
    tmp_path: Path,
) -> None:
    smtp_port, hook_port = free_port(), free_port()
    inbox = Inbox()
    with live_service(
        tmp_path,
        IDENTITY_PROOFING="required",
        SANDBOX_COUNTRIES="NG",
        SMTP_URL=f"smtp://127.0.0.1:{smtp_port}",
        SMTP_TIMEOUT_SECONDS="2",
        MAIL_FROM="IPC <no-reply@ipc.test>",
        OUTBOX_RETRY_SCALE="0.01",
        WEBHOOK_ALLOW_PRIVATE="true",
        CHECK_DEADLINE_SECONDS="600",
    ) as service:
        # -- the operator registers the organisation, its people, and a national agency
        organisation = _last_line(
            service, "organisations", "add", "--name", "Save the Children Kenya",
            "--short-name", "STC Kenya",
        )  # fmt: skip
        for email, role in (("hr@stc.example", "employer"), ("desk@stc.example", "id-checker")):
            _last_line(
                service, "users", "create", "--email", email, "--password", "staff password",
                "--role", role, "--organisation", organisation,
            )  # fmt: skip
        agency_key, agency_public = _write_key_pair(tmp_path, "DE", "ec")
        germany = _last_line(
            service, "agencies", "add", "--country", "DE", "--name", "Bundesamt für Justiz",
            "--mode", "api", "--public-key", str(agency_public),
        )  # fmt: skip

        def agency_queries() -> list[dict[str, Any]]:
            return service.agency_queries(germany, agency_key)

        employer = _bearer(service, "hr@stc.example", "staff password")
        checker = _bearer(service, "desk@stc.example", "staff password")
        hook = employer.post(
            "/api/v1/webhooks",
            json={
                "url": f"http://127.0.0.1:{hook_port}/hooks/ipc",
                "events": ["certificate.revoked", "request.shared", "request.stopped"],
            },
        )
        assert hook.status_code == 201, hook.text
        secret = hook.json()["secret"]

        # -- the employer asks the candidate while the SMTP server is down; the candidate
        #    signs up (the address check is written to the outbox too)
        asked = employer.post(
            "/api/v1/requests", json={"email": CANDIDATE, "purpose": "Teacher, Nairobi"}
        )
        assert asked.status_code == 201, asked.text
        request_id = asked.json()["id"]
        candidate = service.applicant(CANDIDATE)
        wait_for(
            "failed attempts at both messages",
            lambda: all(
                rows and rows[0][1] >= 2 and not rows[0][2]
                for rows in (
                    _outbox(service, "mail", "candidate_request"),
                    _outbox(service, "mail", "email_verification"),
                )
            ),
        )
        with smtp_server(smtp_port, inbox):
            first = inbox.wait_for(CANDIDATE, 2)
            (check_mail,) = [m for m in first if m["Subject"] == "Confirm your e-mail address"]
            (request_mail,) = [m for m in first if m is not check_mail]
            assert f"/requests/{request_id}" in body_of(request_mail)
            assert "Save the Children Kenya" in body_of(request_mail)

            # -- the candidate verifies their address and files; nobody is asked yet
            assert candidate.get(_link_in(check_mail, "/email/verify/")).status_code == 200
            body = application_body(
                "Okafor", residences=[{"country": "DE", "from": "2015-03", "to": None}]
            )
            body["applicant"]["nationalities"] = ["DE"]
            filed = candidate.post("/api/v1/applications", json=body)
            assert filed.status_code == 201, filed.text
            application_id = filed.json()["id"]
            code = filed.json()["identity"]["code"]
            assert filed.json()["status"] == "awaiting_identity"
            time.sleep(1)  # five sweeps: anything due would have reached the agency
            assert agency_queries() == []

            # -- the ID checker sees the candidate and their passport: a mistyped number first
            wrong = checker.post(
                "/api/v1/identity-checks",
                json={
                    "code": code,
                    "decision": "confirmed",
                    "documents_seen": [{**PASSPORT, "number": "A1234576"}],
                },
            )
            assert wrong.status_code == 409, wrong.text
            assert wrong.json()["error"]["code"] == "document_mismatch"
            time.sleep(1)
            assert agency_queries() == []
            right = checker.post(
                "/api/v1/identity-checks",
                json={"code": code, "decision": "confirmed", "documents_seen": [PASSPORT]},
            )
            assert right.status_code == 200, right.text
            assert right.json()["organisation"] == "Save the Children Kenya"

            # -- only now does the agency's system see the query; it answers
            (query,) = wait_for("the query to open", agency_queries)
            assert query["country"] == "DE"
            assert query["subject"]["family_name"] == "Okafor"
            answered = httpx.post(
                f"{service.base_url}/api/v1/agency/queries/{query['id']}/answer",
                json={"outcome": "no_record", "records": [], "reference": "BfJ-2026-1"},
                headers={
                    "Authorization": f"Bearer {agency_token(germany, agency_key, service.base_url)}"
                },
                timeout=10,
            )
            assert answered.status_code == 200, answered.text

            def certificate() -> dict[str, Any] | None:
                found: dict[str, Any] | None = candidate.get(
                    f"/api/v1/applications/{application_id}"
                ).json()["certificate"]
                return found

            issued = wait_for("the certificate", certificate, timeout=60)

            # -- the candidate shares it while the employer's receiver fails, then is down
            receiver = Receiver(failing=True)
            with webhook_receiver(hook_port, receiver):
                shared = candidate.post(
                    f"/api/v1/requests/{request_id}/share", json={"application_id": application_id}
                )
                assert shared.status_code == 200, shared.text
                wait_for("a refused delivery", lambda: receiver.deliveries)
            refused_ids = {d.headers["webhook-id"] for d in receiver.deliveries}
            (outbox_row,) = _outbox(service, "webhook", "request.shared")
            attempts_while_up = outbox_row[1]
            wait_for(
                "attempts while the receiver is down",
                lambda: (
                    _outbox(service, "webhook", "request.shared")[0][1] >= attempts_while_up + 2
                ),
            )
            receiver.failing = False
            with webhook_receiver(hook_port, receiver):
                wait_for("the delivery once the receiver is back", receiver.accepted, timeout=60)
                ((shared_id, shared_event),) = _events(receiver, secret)
                assert shared_event["type"] == "request.shared"
                assert refused_ids == {shared_id}  # every attempt carried the same webhook-id
                assert shared_id == outbox_row[0]

                listed = employer.get("/api/v1/requests").json()["requests"]
                assert [(r["id"], r["status"]) for r in listed] == [(request_id, "shared")]
                answer = listed[0]["certificate"]
                assert (answer["status"], answer["authentic"]) == ("valid", True)
                assert answer["summary"] == {
                    "countries": 1,
                    "no_record": 1,
                    "record_found": 0,
                    "unconfirmed": 0,
                    "not_covered": 0,
                }
                assert answer["certificate"]["jti"] == issued["id"]
                assert answer["certificate"]["idm"] == "in_person"

                # -- the operator revokes it; the employer hears within a minute
                revoked_at = time.monotonic()
                revoked = service.command(
                    "certificates", "revoke", "--reason", "Issued in error", issued["id"]
                )
                assert revoked.returncode == 0, revoked.stderr
                wait_for(
                    "certificate.revoked",
                    lambda: len(receiver.accepted()) >= 2,
                    timeout=60 - (time.monotonic() - revoked_at),
                )
                _, (revoked_id, revocation) = _events(receiver, secret)
                assert revocation["type"] == "certificate.revoked"
                assert revocation["data"] == {
                    "request_id": request_id,
                    "certificate_id": issued["id"],
                    "status": "revoked",
                }
                listed = employer.get("/api/v1/requests").json()["requests"]
                assert listed[0]["certificate"]["status"] == "revoked"

                # -- the candidate stops sharing: the employer sees nothing more
                stopped = candidate.delete(f"/api/v1/requests/{request_id}/share")
                assert stopped.status_code == 200, stopped.text
                listed = employer.get("/api/v1/requests").json()["requests"]
                assert [(r["id"], r["status"], r["certificate"]) for r in listed] == [
                    (request_id, "stopped", None)
                ]
                seen_by_employer = json.dumps(listed)
                for private in ("Okafor", issued["id"], "1990-04-17"):
                    assert private not in seen_by_employer
                wait_for("request.stopped", lambda: len(receiver.accepted()) >= 3, timeout=60)
                stop_event = _events(receiver, secret)[2][1]
                assert (stop_event["type"], stop_event["data"]["status"]) == (
                    "request.stopped",
                    "stopped",
                )
                ids = [webhook_id for webhook_id, _ in _events(receiver, secret)]
                assert len(set(ids)) == len(ids) == 3  # each event delivered once
                assert revoked_id not in refused_ids

            # -- every message reached the candidate once: the outage doubled none
            inbox.wait_for(CANDIDATE, 4, timeout=60)  # request, address check, issued, revoked
            time.sleep(2)  # ten sweeps more: nothing is sent again
            received = inbox.to(CANDIDATE)
            assert len(received) == 4, [m["Subject"] for m in received]
            assert len({m["Message-ID"] for m in received}) == 4
            unsent = service.query("SELECT count(*) FROM outbox_messages WHERE sent_at IS NULL")
            assert unsent == [(0,)]
