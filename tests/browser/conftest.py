"""Fixtures: `switchboard serve` in a subprocess, Debian's chromium under Playwright, pages.

Long: serve, Chromium and the page's helpers are one fixture set for every browser test.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
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
BANNER = re.compile(r"Switchboard local gateway: ws://127\.0\.0\.1:(\d+)/(\w+)")
START_TIMEOUT = 30.0


@dataclass
class Gateway:
    port: int
    stage: str

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/{self.stage}"

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and body of GET PATH on the gateway's port."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as got:
                return got.status, dict(got.headers), got.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def delete_connection(self, connection_id: str) -> None:
        """DELETE /@connections/{id} with boto3's own (signing) client: the server closes it."""
        client: Any = boto3.client(
            "apigatewaymanagementapi",
            endpoint_url=f"http://127.0.0.1:{self.port}/{self.stage}",
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        client.delete_connection(ConnectionId=connection_id)


@contextmanager
def running_gateway(workdir: Path, *args: str) -> Iterator[Gateway]:
    """`switchboard serve --port 0 ARGS` as a user runs it, stopped with Ctrl-C at the end."""
    log_path = workdir / "serve.log"
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
    for name in ("STORE", "DYNAMODB_ENDPOINT", "APIGW_ENDPOINT", "CONNECTIONS_TABLE"):
        env.pop(name, None)  # the developer's own settings must not point the test elsewhere
    command = [sys.executable, "-m", "entrypoints.cli", "serve", "--port", "0", *args]
    with log_path.open("wb") as log:  # a file, not a pipe: a full pipe would stall the server
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        yield _started(process, log_path)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _started(process: subprocess.Popen[bytes], log_path: Path) -> Gateway:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        found = BANNER.search(log_path.read_text(errors="replace"))
        if found:
            return Gateway(int(found.group(1)), found.group(2))
        if process.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError(f"switchboard serve did not start:\n{log_path.read_text(errors='replace')}")


@pytest.fixture(scope="session")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    with running_gateway(tmp_path_factory.mktemp("gateway")) as started:
        yield started


@pytest.fixture
def gateway_without_page(tmp_path: Path) -> Iterator[Gateway]:
    with running_gateway(tmp_path, "--no-page") as started:
        yield started


@pytest.fixture(scope="session")
def page_url(gateway: Gateway) -> str:
    """The gateway's own /: the page derives its WebSocket URL from where it was loaded."""
    return f"http://127.0.0.1:{gateway.port}/"


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
def open_page(browser: Browser, page_url: str) -> Iterator[Callable[[], Page]]:
    """Open the chat page in a fresh browser context (its own tab, its own socket)."""
    contexts = []

    def open_one() -> Page:
        context = browser.new_context(viewport={"width": 1100, "height": 560})
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.goto(page_url)
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
