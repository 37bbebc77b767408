"""Every page in every language, checked by axe-core in Chromium: no serious or critical
violation, the right ``lang`` and ``dir``; focus on the error summary after a failed
submit; screenshots of the Arabic filing form and /v under ``artifacts/pages/``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from certificate.i18n import LANGUAGES
from tests.browser.conftest import NewPage, require_browser
from tests.browser.test_journeys import (
    PASSWORD,
    api_applicant,
    completed,
    iceland_query,
    log_in,
)
from tests.conftest import application_body
from tests.live import ROOT, LiveService

require_browser()

from axe_playwright_python.sync_playwright import Axe  # noqa: E402

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.slow

PAGES_DIR = ROOT / "artifacts" / "pages"
SERIOUS = {"serious", "critical"}


@dataclass
class People:
    anonymous: Page
    applicant: Page
    officer: Page
    admin: Page
    application_id: str
    query_id: str


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


@pytest.fixture
def people(service: LiveService, new_page: NewPage) -> People:
    done = service.command(
        "users", "create", "--email", "admin@ipc.example", "--password", PASSWORD,
        "--name", "Operator", "--role", "admin",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    _http, application_id = iceland_query(service, "amina@example.org", "Amina Haddad")
    rows = service.query("SELECT id FROM checks WHERE country = 'IS'")
    applicant, officer, admin = new_page("applicant"), new_page("officer"), new_page("admin")
    log_in(applicant, "amina@example.org", PASSWORD, lands_on="/applications")
    log_in(officer, "officer@police.is", PASSWORD, lands_on="/portal")
    log_in(admin, "admin@ipc.example", PASSWORD, lands_on="/admin/checks")
    return People(new_page("anonymous"), applicant, officer, admin, application_id, str(rows[0][0]))


def pages(people: People) -> list[tuple[str, Page, str]]:
    return [
        ("home", people.anonymous, "/"),
        ("login", people.anonymous, "/login"),
        ("signup", people.anonymous, "/signup"),
        ("verify", people.anonymous, "/v"),
        ("filing form", people.applicant, "/applications/new"),
        ("applications", people.applicant, "/applications"),
        ("progress", people.applicant, f"/applications/{people.application_id}"),
        ("portal queue", people.officer, "/portal"),
        ("portal query", people.officer, f"/portal/queries/{people.query_id}"),
        ("admin failed checks", people.admin, "/admin/checks"),
        ("admin certificates", people.admin, "/admin/certificates"),
        ("admin approvals", people.admin, "/admin/approvals"),
    ]


def serious(axe: Axe, page: Page) -> list[dict[str, Any]]:
    results = axe.run(page)
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in results.response["violations"]
        if v["impact"] in SERIOUS
    ]


def check(axe: Axe, page: Page, name: str, code: str) -> list[str]:
    """This page's problems in ``code``: wrong lang/dir, or serious axe violations."""
    problems = []
    lang = page.evaluate("document.documentElement.lang")
    direction = page.evaluate("document.documentElement.dir")
    expected = "rtl" if LANGUAGES[code].rtl else "ltr"
    if (lang, direction) != (code, expected):
        problems.append(f"{name} [{code}]: lang={lang} dir={direction}")
    problems += [f"{name} [{code}]: {violation}" for violation in serious(axe, page)]
    return problems


def test_every_page_in_every_language_passes_axe_and_errors_take_the_focus(
    people: People, axe: Axe
) -> None:
    PAGES_DIR.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for code in LANGUAGES:
        for name, page, path in pages(people):
            page.goto(f"{path}?lang={code}")
            page.wait_for_load_state("networkidle")
            problems += check(axe, page, name, code)
            if code == "ar" and name in ("filing form", "verify"):
                page.screenshot(
                    path=str(PAGES_DIR / f"{name.replace(' ', '-')}-ar.png"), full_page=True
                )
        # /v with an answer, typed without JavaScript's help
        page = people.anonymous
        page.goto(f"/v?lang={code}")
        page.locator("#certificate_number").fill("7K2M-9QXD-4TRB-ABCD")
        page.locator("#date_of_birth").fill("1990-04-17")
        page.locator(
            "form[action^='/v?'] button[type=submit], form[action='/v'] button[type=submit]"
        ).first.click()
        page.wait_for_load_state("networkidle")
        assert page.locator("#verify-result .result").count() == 1
        problems += check(axe, page, "verify answered", code)
        if code == "ar":
            page.screenshot(path=str(PAGES_DIR / "verify-answered-ar.png"), full_page=True)
    assert not problems, "\n".join(problems)
    a_failed_submit_moves_focus_to_the_error_summary(people)


def a_failed_submit_moves_focus_to_the_error_summary(people: People) -> None:
    """After a rejected filing the error summary has the focus; date fields state the format."""
    page = people.applicant
    for code in ("en", "ar"):
        page.goto(f"/applications/new?lang={code}")
        page.locator("form.application-form button.button-large").click()
        page.wait_for_load_state("networkidle")
        focused = page.evaluate("document.activeElement.classList.contains('error-summary')")
        assert focused, code
        hint = page.locator("#date_of_birth-hint [data-date-format]").inner_text()
        assert "YYYY" in hint or "سنة" in hint, hint  # the browser's own date format, stated


def test_the_organisations_pages_pass_axe_in_every_language(
    service: LiveService, new_page: NewPage, axe: Axe
) -> None:
    """The employer's dashboard (with a shared certificate's answer), keys and webhooks, the
    CSV check with its results, the ID checker's desk and the candidate's request page."""
    added = service.command("organisations", "add", "--name", "Save the Children Kenya")
    assert added.returncode == 0, added.stderr
    organisation = added.stdout.strip().splitlines()[-1]
    for email, role in (("hr@stc.example", "employer"), ("desk@stc.example", "id-checker")):
        done = service.command(
            "users", "create", "--email", email, "--password", PASSWORD, "--name", "Wanjiru",
            "--role", role, "--organisation", organisation,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    employer_api = service.client()
    token = employer_api.post(
        "/api/v1/tokens", json={"email": "hr@stc.example", "password": PASSWORD}
    )
    employer_api.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    asked = employer_api.post(
        "/api/v1/requests", json={"email": "zawadi@example.org", "purpose": "Teacher, Nairobi"}
    )
    assert asked.status_code == 201, asked.text
    request_id = asked.json()["id"]
    candidate = api_applicant(service, "zawadi@example.org", "Zawadi Otieno")
    filed = candidate.post(
        "/api/v1/applications",
        json=application_body(
            "Recordson", residences=[{"country": "KE", "from": "2020-01", "to": None}]
        ),
    )
    assert filed.status_code == 201, filed.text
    application = completed(candidate, filed.json()["id"])
    shared = candidate.post(
        f"/api/v1/requests/{request_id}/share", json={"application_id": application["id"]}
    )
    assert shared.status_code == 200, shared.text

    employer, checker, applicant = new_page("employer"), new_page("checker"), new_page("zawadi")
    log_in(employer, "hr@stc.example", PASSWORD, lands_on="/employer")
    log_in(checker, "desk@stc.example", PASSWORD, lands_on="/identity-checks")
    log_in(applicant, "zawadi@example.org", PASSWORD, lands_on="/applications")
    csv = f"certificate_id,date_of_birth\n{application['certificate']['id']},1990-04-17\nNOPE,1990-01-01\n"
    problems: list[str] = []
    for code in LANGUAGES:
        for name, page, path in (
            ("employer requests", employer, "/employer"),
            ("employer keys and webhooks", employer, "/employer/access"),
            ("employer CSV", employer, "/employer/verify"),
            ("identity desk", checker, "/identity-checks"),
            ("candidate's request", applicant, f"/requests/{request_id}"),
        ):
            page.goto(f"{path}?lang={code}")
            page.wait_for_load_state("networkidle")
            problems += check(axe, page, name, code)
        employer.goto(f"/employer/verify?lang={code}")
        employer.locator("input[type=file]").set_input_files(
            files=[{"name": "list.csv", "mimeType": "text/csv", "buffer": csv.encode()}]
        )
        employer.locator("form[enctype] button[type=submit]").click()
        employer.wait_for_load_state("networkidle")
        assert employer.locator("table.batch-results tbody tr").count() == 2
        problems += check(axe, employer, "employer CSV results", code)
    assert not problems, "\n".join(problems)
