"""Fixtures: `switchboard serve` (tests/browser/gateway.py), Debian's chromium under Playwright,
pages opened on a gateway, screenshots."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser.chat import OpenPage
from tests.browser.gateway import ROOT, Gateway, running_gateway

CHROMIUM = Path("/usr/bin/chromium")
# `playwright install` cannot download browsers here: Debian's chromium, headless, offline.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts" / "browser"


@pytest.fixture(scope="session")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    with running_gateway(tmp_path_factory.mktemp("gateway")) as started:
        yield started


@pytest.fixture
def gateway_without_page(tmp_path: Path) -> Iterator[Gateway]:
    with running_gateway(tmp_path, "--no-page") as started:
        yield started


# Module scope, not session: Playwright's sync API keeps an event loop running in this thread
# until it stops, and every later test that calls asyncio.run() would fail meanwhile.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"no chromium at {CHROMIUM}: `apt-get install -y chromium` (.ci/run does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def open_page(browser: Browser, gateway: Gateway) -> Iterator[OpenPage]:
    """Open the chat page (of gateway ON, else the session's) in a fresh browser context (its
    own tab, its own socket), with QUERY after its /. CLOCK installs Playwright's clock, so the
    test decides when the page's timers fire; BEFORE runs before it loads (routes, say)."""
    contexts = []

    def open_one(
        on: Gateway | None = None,
        query: str = "",
        clock: bool = False,
        before: Callable[[Page], None] | None = None,
    ) -> Page:
        context = browser.new_context(viewport={"width": 1100, "height": 560})
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        if clock:
            page.clock.install(time=datetime.now())
        if before is not None:
            before(page)
        page.goto((on or gateway).page_url + query)
        return page

    yield open_one
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot() -> Callable[[Page, str], Path]:
    """Save a page as test-artifacts/browser/NAME.png (gitignored): called once a test passed."""

    def save(page: Page, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path))
        return path

    return save
