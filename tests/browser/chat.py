"""What the browser tests do on the chat page, and a second client of the real gateway."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, Protocol

from playwright.sync_api import Locator, Page, expect
from websockets.sync.client import ClientConnection, connect

from tests.browser.gateway import Gateway

# API Gateway's connection ids: 16 characters of the base64 alphabet, ending in "=".
CONNECTION_ID = re.compile(r"^[A-Za-z0-9+/_-]{15}=$")
LATENCY = re.compile(r"^\d+ ms$")
WAIT = 10.0  # seconds: the most a peer waits for one frame


class OpenPage(Protocol):
    def __call__(
        self,
        on: Gateway | None = None,
        query: str = "",
        clock: bool = False,
        before: Callable[[Page], None] | None = None,
    ) -> Page: ...


def connection_id(page: Page) -> str:
    shown = page.get_by_test_id("connection-id")
    expect(shown).to_have_text(CONNECTION_ID)
    return shown.inner_text()


def join(page: Page, room: str) -> None:
    page.get_by_test_id("room-input").fill(room)
    page.get_by_test_id("join").click()
    # A joined room (not one still rejoining) is offered as a target.
    expect(page.locator(f'[data-testid="target"] option[value="{room}"]')).to_have_count(1)


def send(page: Page, text: str, room: str = "") -> None:
    page.get_by_test_id("target").select_option(room)
    page.get_by_test_id("message-input").fill(text)
    page.get_by_test_id("send").click()


def message(page: Page, text: str) -> Locator:
    return page.get_by_test_id("message").filter(has_text=text)


def in_room(page: Page, room: str, part: str = "message-text") -> Locator:
    """Each shown message of ROOM, in the page's order: its PART (text, seq, from)."""
    return page.locator(f'[data-testid="message"][data-room="{room}"] [data-testid="{part}"]')


def notice(page: Page, text: str) -> Locator:
    return page.get_by_test_id("notice").filter(has_text=text)


def room_item(page: Page, room: str) -> Locator:
    return page.locator(f'[data-testid="room"][data-room="{room}"]')


def hold_timers(page: Page) -> None:
    """Pause the page's clock (installed when it opened): no timer of the page fires until the
    test runs the clock on. Control over order, not a measurement of time."""
    page.clock.pause_at(datetime.now() + timedelta(minutes=1))


@contextmanager
def peer(url: str) -> Iterator[Peer]:
    """A second client connected to URL for the block's duration."""
    with connect(url, open_timeout=WAIT) as socket:
        yield Peer(socket)


class Peer:
    """A second client of the gateway (websockets' sync client), waiting for what it asked."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket

    def join(self, room: str) -> int:
        """Joins ROOM; its latest seq."""
        joined = self._ask({"action": "join", "room": room}, lambda f: f.get("type") == "joined")
        return int(joined["seq"])

    def send(self, room: str, text: str) -> int:
        """Sends TEXT to ROOM and waits until it comes back; its seq."""
        message_id = uuid.uuid4().hex
        frame = {"action": "sendmessage", "room": room, "data": text, "id": message_id}
        echo = self._ask(frame, lambda f: f.get("type") == "message" and f["id"] == message_id)
        return int(echo["seq"])

    def _ask(self, frame: dict[str, Any], wanted: Callable[[dict[str, Any]], bool]) -> Any:
        self.socket.send(json.dumps(frame))
        deadline = time.monotonic() + WAIT
        while True:  # frames for others (presence events) may come first; bounded by WAIT
            answer = json.loads(self.socket.recv(timeout=max(0.0, deadline - time.monotonic())))
            if isinstance(answer, dict) and wanted(answer):
                return answer
