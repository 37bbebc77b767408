"""National agencies over real HTTP: the service and the agency simulator as separate processes.

One service runs for the module (short retry, timeout and breaker settings);
each test registers its own agencies with the real operator command while
the service runs, for countries outside the sandbox list, and starts
``tools.agency_simulator`` processes on loopback to play them. Every wait is
bounded; every process is stopped at the end of its test.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pypdfium2 as pdfium
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine, text

from certificate.issuance.claims import decode_outcomes
from certificate.issuance.i18n import category_words
from tests.conftest import application_body
from tests.live import ROOT, LiveService, agency_token, free_port, live_service, wait_for

pytestmark = pytest.mark.slow

MAX_ATTEMPTS = 5
SETTINGS = {
    "PUSH_TIMEOUT_SECONDS": "1",
    "RETRY_BASE_SECONDS": "0.2",
    "RETRY_MAX_SECONDS": "1",
    "MAX_ATTEMPTS": str(MAX_ATTEMPTS),
    "SWEEP_INTERVAL_SECONDS": "0.2",
    "PUSH_BREAKER_FAILURES": "3",
    "PUSH_BREAKER_RESET_SECONDS": "1",
    "CHECK_DEADLINE_SECONDS": "600",
}
FINAL = {"answered", "no_response", "not_covered"}

# -- processes ---------------------------------------------------------------------------------


@dataclass
class Simulator:
    """A running ``tools.agency_simulator`` process."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> dict[str, Any]:
        """What the simulated agency received and answered."""
        result: dict[str, Any] = httpx.get(f"{self.url}/_log", timeout=5).json()
        return result

    def set_behaviour(self, behaviour: str) -> None:
        """Change how it answers from now on."""
        response = httpx.post(f"{self.url}/_control", json={"behaviour": behaviour}, timeout=5)
        assert response.status_code == 200, response.text

    def stop(self) -> None:
        """Terminate, then kill if it lingers."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


@dataclass
class Agency:
    """A registered agency, with the simulator playing it (if any)."""

    id: str
    country: str
    simulator: Simulator | None
    private_key: Path | None = None

    @property
    def sim(self) -> Simulator:
        assert self.simulator is not None
        return self.simulator


def _write_key_pair(directory: Path, name: str, kind: str) -> tuple[Path, Path]:
    key: ec.EllipticCurvePrivateKey | Ed25519PrivateKey = (
        Ed25519PrivateKey.generate()
        if kind == "ed25519"
        else ec.generate_private_key(ec.SECP256R1())
    )
    private = directory / f"{name}.key.pem"
    public = directory / f"{name}.pub.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


def _start_simulator(
    directory: Path, port: int, agency_id: str, service_url: str, options: list[str]
) -> Simulator:
    log_path = directory / f"simulator-{port}.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tools.agency_simulator",
                "--port",
                str(port),
                "--agency-id",
                agency_id,
                "--service",
                service_url,
                *options,
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    simulator = Simulator(f"http://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"simulator exited:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{simulator.url}/_health", timeout=1).status_code == 200:
                return simulator
        except httpx.HTTPError:
            time.sleep(0.1)
    simulator.stop()
    raise RuntimeError("simulator did not start within 20 s")


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    """One service process for the module."""
    with live_service(tmp_path_factory.mktemp("agencies-live"), **SETTINGS) as running:
        yield running


@pytest.fixture(scope="module")
def applicant(service: LiveService) -> Iterator[httpx.Client]:
    """An applicant's authorised HTTP client."""
    http = httpx.Client(base_url=service.base_url, timeout=10)
    password = "a long enough password"
    account = {"email": "agencies@example.org", "password": password, "name": "Applicant"}
    assert http.post("/api/v1/accounts", json=account).status_code == 201
    token = http.post("/api/v1/tokens", json={"email": account["email"], "password": password})
    http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    yield http
    http.close()


AgencyFactory = Callable[..., Agency]


@pytest.fixture
def agencies(service: LiveService, tmp_path: Path) -> Iterator[AgencyFactory]:
    """Register an agency with ``flask agencies add`` and start a simulator to play it."""
    started: list[Simulator] = []

    def register(
        country: str,
        mode: str,
        *,
        behaviour: str = "now",
        key: str = "ec",
        simulate: bool = True,
        endpoint: str | None = None,
        options: tuple[str, ...] = (),
    ) -> Agency:
        port = free_port()
        args = [
            "agencies",
            "add",
            "--country",
            country,
            "--name",
            f"{country} National Police Records",
            "--mode",
            mode,
        ]
        private_key: Path | None = None
        if mode in ("api", "push"):
            private_key, public_key = _write_key_pair(tmp_path, country, key)
            args += ["--public-key", str(public_key)]
        if mode == "push":
            args += ["--endpoint", endpoint or f"http://127.0.0.1:{port}/queries"]
        added = service.command(*args)
        assert added.returncode == 0, added.stderr
        agency_id = added.stdout.strip().splitlines()[-1]
        assert agency_id.isalnum(), added.stdout
        simulator = None
        if simulate:
            sim_options = ["--mode", mode, "--behaviour", behaviour, "--poll-interval", "0.2"]
            if private_key is not None:
                sim_options += ["--private-key", str(private_key)]
            simulator = _start_simulator(
                tmp_path, port, agency_id, service.base_url, [*sim_options, *options]
            )
            started.append(simulator)
        return Agency(agency_id, country, simulator, private_key)

    yield register
    for simulator in started:
        simulator.stop()


# -- the applicant's side ----------------------------------------------------------------------


def file_application(http: httpx.Client, family_name: str, countries: list[str]) -> str:
    """File an application naming exactly ``countries`` (residences; the first is also nationality)."""
    body = application_body(
        family_name,
        residences=[
            {"country": country, "from": f"{2000 + i}-01", "to": f"{2000 + i}-12"}
            for i, country in enumerate(countries)
        ],
    )
    body["applicant"]["nationalities"] = [countries[0]]
    filed = http.post("/api/v1/applications", json=body)
    assert filed.status_code == 201, filed.text
    assert [c["country"] for c in filed.json()["checks"]] == countries
    application_id: str = filed.json()["id"]
    return application_id


def progress(http: httpx.Client, application_id: str) -> dict[str, Any]:
    """The applicant's view of one application."""
    body: dict[str, Any] = http.get(f"/api/v1/applications/{application_id}").json()
    return body


def checks_of(http: httpx.Client, application_id: str) -> dict[str, dict[str, Any]]:
    """Country → its check as the applicant sees it."""
    return {c["country"]: c for c in progress(http, application_id)["checks"]}


def wait_complete(http: httpx.Client, application_id: str, timeout: float = 20) -> dict[str, Any]:
    """The application once its certificate is issued."""

    def probe() -> dict[str, Any] | None:
        body = progress(http, application_id)
        return body if body["status"] == "complete" and body["certificate"] else None

    return wait_for(f"application {application_id} to complete", probe, timeout)


def wait_check(
    http: httpx.Client,
    application_id: str,
    country: str,
    statuses: set[str],
    timeout: float = 15,
) -> dict[str, Any]:
    """The check of ``country`` once its status is one of ``statuses``."""

    def probe() -> dict[str, Any] | None:
        check = checks_of(http, application_id)[country]
        return check if check["status"] in statuses else None

    return wait_for(f"{country} check to become {statuses}", probe, timeout)


def certificate_claims(service: LiveService, certificate: dict[str, Any]) -> dict[str, Any]:
    """The certificate's signed claims, verified against the service's JWKS."""
    token = certificate["verify_url"].split("#", 1)[1]
    jwks = httpx.get(f"{service.base_url}/.well-known/jwks.json", timeout=5).json()
    kid = jwt.get_unverified_header(token)["kid"]
    key = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == kid))
    claims: dict[str, Any] = jwt.decode(token, key.key, algorithms=["EdDSA"])
    return claims


def assert_record_printed(record: dict[str, str], printed: str) -> None:
    """Every field of ``record`` is on the certificate as given; its category in words."""
    for field, value in record.items():
        expected = category_words("en", value) if field == "category" else value
        assert expected in printed, f"{field} {expected!r} is not printed"


def pdf_text(http: httpx.Client, service: LiveService, certificate: dict[str, Any]) -> str:
    """The certificate PDF's text, whitespace collapsed."""
    response = http.get(httpx.URL(service.base_url).join(certificate["pdf_url"]))
    assert response.status_code == 200
    document = pdfium.PdfDocument(response.content)
    try:
        pages = [str(document[i].get_textpage().get_text_range()) for i in range(len(document))]
    finally:
        document.close()
    return " ".join(" ".join(pages).split())


def stored_check(service: LiveService, application_id: str, country: str) -> dict[str, Any]:
    """The check's row, read from the service's database (the outcome opened with the keys)."""
    [row] = service.query(
        "SELECT id, status, outcome, reference, attempts, last_error "
        "FROM checks WHERE application_id = :a AND country = :c",
        a=application_id,
        c=country,
    )
    names = ("id", "status", "outcome", "reference", "attempts", "last_error")
    stored = dict(zip(names, row, strict=True))
    if stored["outcome"] is not None:
        stored["outcome"] = (
            service.keyring().open(str(stored["outcome"]), "checks.outcome").decode()
        )
    return stored


def audit_actions(service: LiveService, check_id: str) -> list[str]:
    """The audit trail of one check, oldest first."""
    rows = service.query(
        "SELECT action FROM audit_events WHERE subject_id = :s ORDER BY id", s=check_id
    )
    return [str(row[0]) for row in rows]


def pass_the_deadline(service: LiveService, check_id: str) -> None:
    """Move a check's deadline into the past, as if its working days had gone by."""
    engine = create_engine(service.database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE checks SET deadline_at = created_at WHERE id = :id"), {"id": check_id}
            )
    finally:
        engine.dispose()


def answer_through_api(
    service: LiveService, agency: Agency, check_id: str, answer: dict[str, Any]
) -> httpx.Response:
    """Answer a query as the agency's own system would, signed with its registered key."""
    assert agency.private_key is not None
    token = agency_token(agency.id, agency.private_key, service.base_url)
    return httpx.post(
        f"{service.base_url}/api/v1/agency/queries/{check_id}/answer",
        json=answer,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


def answers_when(agency: Agency, count: int) -> list[dict[str, Any]] | None:
    """The simulator's answers once there are ``count`` of them."""
    answers = answers_sent(agency, at_least=0)
    return answers if len(answers) == count else None


def answers_sent(agency: Agency, at_least: int = 1, timeout: float = 5) -> list[dict[str, Any]]:
    """The answers the simulator sent (by push or through the API).

    The simulator logs an answer once our reply reaches it, a moment after we
    stored it, so this waits (bounded) for ``at_least`` of them.
    """
    deadline = time.monotonic() + timeout
    answers = list(agency.sim.log()["answers"])
    while len(answers) < at_least and time.monotonic() < deadline:
        time.sleep(0.1)
        answers = list(agency.sim.log()["answers"])
    return answers


# -- the tests ---------------------------------------------------------------------------------


def test_api_mode_fetches_and_answers(
    service: LiveService, applicant: httpx.Client, agencies: AgencyFactory
) -> None:
    iceland = agencies("IS", "api", key="ec")
    filed_at = time.monotonic()
    application_id = file_application(applicant, "RECORDSSON", ["IS", "KE"])

    [answer] = wait_for("the agency to answer", lambda: answers_sent(iceland), timeout=15)
    assert time.monotonic() - filed_at < 15, "the query is open within seconds of the filing"
    assert answer["via"] == "api"
    assert answer["status"] == 200, answer
    sent = answer["answer"]
    assert sent["outcome"] == "record_found"

    done = wait_complete(applicant, application_id)
    checks = {c["country"]: c for c in done["checks"]}
    assert (checks["IS"]["status"], checks["IS"]["outcome"]) == ("answered", "record_found")

    # stored, signed and printed exactly as the agency gave it (records are encrypted at
    # rest, so they are read back from the certificate, not from the database)
    stored = stored_check(service, application_id, "IS")
    assert (stored["outcome"], stored["reference"]) == (sent["outcome"], sent["reference"])
    claims = certificate_claims(service, done["certificate"])
    assert decode_outcomes(claims["c"])["IS"] == "record_found"
    printed = pdf_text(applicant, service, done["certificate"])
    assert_record_printed(sent["records"][0], printed)
    assert sent["reference"] in printed

    polls = iceland.sim.log()["polls"]
    assert polls
    assert {p["status"] for p in polls} == {200}


def test_push_mode_answer_at_once(
    service: LiveService, applicant: httpx.Client, agencies: AgencyFactory
) -> None:
    norway = agencies("NO", "push", behaviour="now", key="ed25519")
    application_id = file_application(applicant, "Okafor", ["NO"])
    done = wait_complete(applicant, application_id, timeout=15)

    log = norway.sim.log()
    assert log["rejected"] == []
    [push] = log["pushes"]
    assert push["status"] == 200
    jwks = httpx.get(f"{service.base_url}/.well-known/jwks.json", timeout=5).json()
    assert push["kid"] in {k["kid"] for k in jwks["keys"]}
    [answer] = log["answers"]
    stored = stored_check(service, application_id, "NO")
    assert push["query_id"] == stored["id"]
    assert (stored["outcome"], stored["reference"]) == (
        answer["answer"]["outcome"],
        answer["answer"]["reference"],
    )
    assert answer["answer"]["records"] == []
    assert certificate_claims(service, done["certificate"])["c"] == "nNO"
    assert answer["answer"]["reference"] in pdf_text(applicant, service, done["certificate"])


def test_push_mode_answer_later(
    service: LiveService, applicant: httpx.Client, agencies: AgencyFactory
) -> None:
    denmark = agencies(
        "DK", "push", behaviour="later", key="ed25519", options=("--answer-delay", "1.5")
    )
    application_id = file_application(applicant, "NOMATCHSEN", ["DK"])

    sent = wait_check(applicant, application_id, "DK", {"sent", *FINAL})
    assert sent["status"] == "sent", "acknowledged with 202: waiting for the agency's answer"
    stored = stored_check(service, application_id, "DK")
    assert stored["reference"] == f"SIM-DK-{stored['id'][:12]}"  # from the 202 body

    done = wait_complete(applicant, application_id, timeout=15)
    [answer] = answers_sent(denmark)
    assert (answer["via"], answer["status"]) == ("api", 200)
    assert [c["outcome"] for c in done["checks"]] == ["identity_unconfirmed"]
    assert certificate_claims(service, done["certificate"])["c"] == "iDK"
    assert [p["status"] for p in denmark.sim.log()["pushes"]] == [202]


def test_an_answer_right_after_the_202_is_accepted(
    service: LiveService, applicant: httpx.Client, agencies: AgencyFactory
) -> None:
    """The agency may answer before the service has even stored its 202."""
    belgium = agencies("BE", "push", behaviour="later", options=("--answer-delay", "0"))
    filed = [file_application(applicant, f"Peeters{i}", ["BE"]) for i in range(12)]
    for application_id in filed:
        wait_complete(applicant, application_id, timeout=30)

    # the simulator logs an answer once our 200 reaches it, a moment after we stored it
    # (a push retried because its 202 came late on a loaded machine is answered again: the
    # same answer, which the service accepts as a repeat)
    def statuses_by_query() -> dict[str, list[int]]:
        found: dict[str, list[int]] = {}
        for answer in belgium.sim.log()["answers"]:
            found.setdefault(answer["query_id"], []).append(answer["status"])
        return found

    deadline = time.monotonic() + 5
    answered = statuses_by_query()
    while len(answered) < len(filed) and time.monotonic() < deadline:
        time.sleep(0.1)
        answered = statuses_by_query()
    assert len(answered) == len(filed)
    assert all(set(statuses) == {200} for statuses in answered.values()), answered


@pytest.mark.parametrize(("country", "fault"), [("SE", "timeout"), ("EE", "error")])
def test_push_faults_are_retried_until_the_agency_answers(
    service: LiveService,
    applicant: httpx.Client,
    agencies: AgencyFactory,
    country: str,
    fault: str,
) -> None:
    agency = agencies(
        country,
        "push",
        behaviour=fault,
        options=("--hang-seconds", "5", "--recover-after", "2"),
    )
    application_id = file_application(applicant, "Svensson", [country])
    done = wait_complete(applicant, application_id, timeout=20)

    pushes = agency.sim.log()["pushes"]
    assert [p["behaviour"] for p in pushes] == [fault, fault, "now"]
    if fault == "timeout":
        # the first call waited for its 1 s timeout (the simulator logs a push when it has read
        # it, which a loaded machine can delay by a few tenths; a retry after the backoff alone
        # would follow within 0.2 s)
        assert pushes[1]["at"] - pushes[0]["at"] >= 0.6, "the first call waited for its timeout"
    else:
        assert [p["status"] for p in pushes] == [500, 500, 200]
    # capped exponential backoff: at least base/2, then base, between the calls
    assert pushes[2]["at"] - pushes[0]["at"] >= 0.1 + 0.2
    stored = stored_check(service, application_id, country)
    assert (stored["status"], stored["outcome"], stored["attempts"]) == ("answered", "no_record", 3)
    actions = audit_actions(service, stored["id"])
    assert actions.count("check.retry_scheduled") == 2
    assert "check.failed" not in actions
    assert certificate_claims(service, done["certificate"])["c"] == f"n{country}"


def test_http_500_is_retried_with_backoff_then_failed_then_not_confirmed_at_the_deadline(
    service: LiveService, applicant: httpx.Client, agencies: AgencyFactory
) -> None:
    finland = agencies("FI", "push", behaviour="error")
    application_id = file_application(applicant, "Virtanen", ["FI", "KE"])

    failed = wait_check(applicant, application_id, "FI", {"failed", *FINAL}, timeout=20)
    assert (failed["status"], failed["outcome"]) == ("failed", None)
    stored = stored_check(service, application_id, "FI")
    assert stored["attempts"] == MAX_ATTEMPTS
    assert "unavailable" in stored["last_error"] or "circuit open" in stored["last_error"]
    actions = audit_actions(service, stored["id"])
    assert actions.count("check.retry_scheduled") == MAX_ATTEMPTS - 1
    assert actions[-1] == "check.failed"

    pushes = finland.sim.log()["pushes"]
    assert {p["status"] for p in pushes} == {500}
    # every attempt is a real call: while the circuit breaker was open the check waited
    # without using up its attempts
    assert len(pushes) == MAX_ATTEMPTS
    # backoff: the calls are spread out, not fired back to back
    assert pushes[2]["at"] - pushes[0]["at"] >= 0.1 + 0.2

    # failed is not final: no certificate, nothing shown as clear, and no more calls
    time.sleep(1.5)
    assert len(finland.sim.log()["pushes"]) == len(pushes)
    body = progress(applicant, application_id)
    assert (body["status"], body["certificate"]) == ("in_progress", None)

    pass_the_deadline(service, stored["id"])
    done = wait_complete(applicant, application_id, timeout=10)
    checks = {c["country"]: c for c in done["checks"]}
    assert (checks["FI"]["status"], checks["FI"]["outcome"]) == ("no_response", None)
    # the certificate says the check failed (what happened), never clear
    assert decode_outcomes(certificate_claims(service, done["certificate"])["c"]) == {
        "FI": "failed",
        "KE": "no_record",
    }


@pytest.mark.parametrize(("country", "fault"), [("PT", "malformed"), ("IE", "oversized")])
def test_a_malformed_or_oversized_answer_fails_and_never_counts(
    service: LiveService,
    applicant: httpx.Client,
    agencies: AgencyFactory,
    country: str,
    fault: str,
) -> None:
    agency = agencies(country, "push", behaviour=fault)
    application_id = file_application(applicant, "Okafor", [country, "KE"])

    failed = wait_check(applicant, application_id, country, {"failed", *FINAL}, timeout=10)
    assert (failed["status"], failed["outcome"]) == ("failed", None)
    stored = stored_check(service, application_id, country)
    assert stored["attempts"] == 1, "not retryable"
    assert stored["outcome"] is None

    time.sleep(1.0)  # long enough for several sweeps: nothing more happens
    assert len(agency.sim.log()["pushes"]) == 1
    body = progress(applicant, application_id)
    assert (body["status"], body["certificate"]) == ("in_progress", None)
    assert {c["country"]: c["status"] for c in body["checks"]}[country] == "failed"

    # the agency may still answer properly through the agency API
    answer = {"outcome": "identity_unconfirmed", "records": [], "reference": "BY-HAND-1"}
    reply = answer_through_api(service, agency, stored["id"], answer)
    assert reply.status_code == 200, reply.text
    done = wait_complete(applicant, application_id, timeout=10)
    assert decode_outcomes(certificate_claims(service, done["certificate"])["c"]) == {
        country: "identity_unconfirmed",
        "KE": "no_record",
    }


def test_a_duplicate_answer_is_accepted_once(
    service: LiveService, applicant: httpx.Client, agencies: AgencyFactory
) -> None:
    austria = agencies("AT", "push", behaviour="duplicate", options=("--answer-delay", "0.3"))
    application_id = file_application(applicant, "RECORDER", ["AT"])
    done = wait_complete(applicant, application_id)

    answers = wait_for("both answers", lambda: answers_when(austria, 2))
    assert [a["status"] for a in answers] == [200, 200]
    assert answers[0]["answer"] == answers[1]["answer"]
    assert answers[0]["response"] == answers[1]["response"]
    stored = stored_check(service, application_id, "AT")
    assert audit_actions(service, stored["id"]).count("check.answered") == 1
    printed = pdf_text(applicant, service, done["certificate"])
    assert_record_printed(answers[0]["answer"]["records"][0], printed)
    assert certificate_claims(service, done["certificate"])["c"] == "rAT"


def test_a_different_second_answer_is_refused(
    service: LiveService, applicant: httpx.Client, agencies: AgencyFactory
) -> None:
    czechia = agencies("CZ", "push", behaviour="conflict", options=("--answer-delay", "0.3"))
    application_id = file_application(applicant, "Novak", ["CZ"])
    done = wait_complete(applicant, application_id)

    answers = wait_for("both answers", lambda: answers_when(czechia, 2))
    assert [a["status"] for a in answers] == [200, 409]
    assert answers[0]["answer"]["outcome"] != answers[1]["answer"]["outcome"]
    stored = stored_check(service, application_id, "CZ")
    assert stored["outcome"] == answers[0]["answer"]["outcome"] == "no_record"
    assert certificate_claims(service, done["certificate"])["c"] == "nCZ"


def test_a_wrong_signature_is_401_and_changes_nothing(
    service: LiveService, applicant: httpx.Client, agencies: AgencyFactory
) -> None:
    poland = agencies("PL", "push", behaviour="wrong_signature", options=("--answer-delay", "0.2"))
    hungary = agencies("HU", "api", behaviour="wrong_signature")
    application_id = file_application(applicant, "RECORDOWSKI", ["PL", "HU"])

    [answer] = wait_for("the push agency's answer", lambda: answers_sent(poland), timeout=10)
    assert answer["status"] == 401
    wait_for(
        "the api agency's refused polls",
        lambda: len([p for p in hungary.sim.log()["polls"] if p["status"] == 401]) >= 3,
    )
    assert {p["status"] for p in hungary.sim.log()["polls"]} == {401}
    assert answers_sent(hungary, at_least=0) == []

    checks = checks_of(applicant, application_id)
    assert {c: (v["status"], v["outcome"]) for c, v in checks.items()} == {
        "PL": ("sent", None),
        "HU": ("sent", None),
    }
    for agency in (poland, hungary):
        assert service.query(
            "SELECT count(*) FROM agency_assertions WHERE agency_id = :a", a=agency.id
        ) == [(0,)]
        stored = stored_check(service, application_id, agency.country)
        assert "check.answered" not in audit_actions(service, stored["id"])


def test_a_dead_agency_delays_nobody_else(
    service: LiveService, applicant: httpx.Client, agencies: AgencyFactory
) -> None:
    # one agency hangs on every call; another's endpoint is a closed port
    agencies("GR", "push", behaviour="timeout", options=("--hang-seconds", "60"))
    agencies("RO", "push", simulate=False, endpoint=f"http://127.0.0.1:{free_port()}/queries")
    netherlands = agencies("NL", "push", behaviour="now")

    waiting = [file_application(applicant, f"Papadopoulos{i}", ["GR", "NL"]) for i in range(4)]
    waiting.append(file_application(applicant, "Popescu", ["RO", "KE"]))
    started = time.monotonic()
    healthy = file_application(applicant, "De Vries", ["NL", "KE"])
    # a dead agency's call hangs for 60 s; the healthy application never waits for it
    done = wait_complete(applicant, healthy, timeout=20)
    assert time.monotonic() - started < 20, "the healthy application was not held up"
    assert decode_outcomes(certificate_claims(service, done["certificate"])["c"]) == {
        "NL": "no_record",
        "KE": "no_record",
    }

    # the healthy agency answered the dead agencies' applications promptly too
    for application_id in waiting[:4]:
        wait_check(applicant, application_id, "NL", {"answered"}, timeout=10)
    assert len(netherlands.sim.log()["pushes"]) == 5
    for application_id in waiting:
        body = progress(applicant, application_id)
        assert (body["status"], body["certificate"]) == ("in_progress", None)
        [dead] = [c for c in body["checks"] if c["country"] in ("GR", "RO")]
        assert dead["status"] not in FINAL
        assert dead["outcome"] is None


def test_portal_mode_queries_are_sent_and_stay_open(
    service: LiveService, applicant: httpx.Client, agencies: AgencyFactory
) -> None:
    agencies("LU", "portal", simulate=False)
    application_id = file_application(applicant, "Schmit", ["LU", "KE"])
    sent = wait_check(applicant, application_id, "LU", {"sent", *FINAL}, timeout=10)
    assert (sent["status"], sent["outcome"]) == ("sent", None)
    wait_check(applicant, application_id, "KE", {"answered"}, timeout=10)
    time.sleep(1.0)  # several sweeps later: still waiting for an officer
    body = progress(applicant, application_id)
    assert {c["country"]: c["status"] for c in body["checks"]} == {"LU": "sent", "KE": "answered"}
    assert (body["status"], body["certificate"]) == ("in_progress", None)
