"""Fixtures for the browser tests: Debian's Chromium driven by Playwright, the service as a
real process on loopback, and screenshots kept under ``artifacts/browser/``.

The browser is Debian's ``chromium`` package at ``/usr/bin/chromium`` (CI installs it);
Playwright's own browser download is never used. Without that browser, or without the
``playwright`` package, the browser tests are skipped, so ``make test`` still passes on a
machine that has neither. Set ``IPC_BROWSER_REQUIRED=1`` (as CI may) to make a missing
browser an error instead of a skip.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.live import ROOT, LiveService, live_service

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = ROOT / "artifacts" / "browser"
#: How long any single action or expectation may wait, in milliseconds.
STEP_TIMEOUT_MS = 15_000


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    if not os.access(CHROMIUM, os.X_OK):
        return f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)"
    return None


def require_browser() -> None:
    """Skip the calling test module when the browser tests cannot run here
    (fail instead when ``IPC_BROWSER_REQUIRED`` is set)."""
    reason = missing_browser()
    if reason is None:
        return
    if os.environ.get("IPC_BROWSER_REQUIRED", "") not in ("", "0"):
        pytest.fail(f"browser tests required, but {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Remember each phase's report on the test, so fixtures can tell a failure."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="module")  # closed with the module: its event loop must not outlive it
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, for this module."""
    require_browser()
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=STEP_TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS, timeout=30_000
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    """One service process for the module; sandbox agencies answer within 50 ms."""
    with live_service(tmp_path_factory.mktemp("browser"), SANDBOX_LATENCY_MS="50") as running:
        yield running


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    """This test's screenshot directory, emptied of an earlier run's files."""
    directory = ARTIFACTS / _slug(request.node.name)
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return directory


Screenshot = Callable[["Page", str], Path]


@pytest.fixture
def screenshot(artifacts: Path) -> Screenshot:
    """``screenshot(page, "step")`` keeps a full-page image as ``NN-step.png``."""
    taken = 0

    def take(page: Page, step: str) -> Path:
        nonlocal taken
        taken += 1
        path = artifacts / f"{taken:02d}-{_slug(step)}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


NewPage = Callable[[str], "Page"]


@pytest.fixture
def new_page(
    browser: Browser, service: LiveService, artifacts: Path, request: pytest.FixtureRequest
) -> Iterator[NewPage]:
    """``new_page("applicant")``: a page in a browser context of its own (its own cookies),
    for one person. When the test fails, each page's last state is kept as a screenshot and
    a Playwright trace (``playwright show-trace``) beside the step screenshots."""
    opened: list[tuple[str, BrowserContext, Page]] = []

    def open_page(who: str) -> Page:
        context = browser.new_context(
            base_url=service.base_url,
            accept_downloads=True,
            locale="en-GB",
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(STEP_TIMEOUT_MS)
        context.tracing.start(screenshots=True, snapshots=True)
        page = context.new_page()
        opened.append((who, context, page))
        return page

    yield open_page
    report = getattr(request.node, "report_call", None)
    failed = report is not None and report.failed
    for who, context, page in opened:
        try:
            if failed:
                if not page.is_closed():
                    page.screenshot(
                        path=str(artifacts / f"failure-{_slug(who)}.png"), full_page=True
                    )
                context.tracing.stop(path=str(artifacts / f"trace-{_slug(who)}.zip"))
            else:
                context.tracing.stop()
        finally:
            context.close()
