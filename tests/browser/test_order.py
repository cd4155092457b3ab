"""Order and repeats, against a fake gateway (Playwright's WebSocket routes): frames out of
order, twice, or never; the page shows each message once, in seq order, and says what never
came. Playwright's clock decides when the page's gap timers fire."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from tests.browser.chat import (
    OpenPage,
    connection_id,
    hold_timers,
    in_room,
    join,
    notice,
    room_item,
)

pytestmark = pytest.mark.timeout(60)
GAP_WAIT_MS = 2000  # app.js: how long a message ahead of a gap waits, twice
Frame = dict[str, Any]


class FakeGateway:
    """Answers whoami, join and presence as the gateway would; the test sends the rest."""

    def __init__(self) -> None:
        self.sockets: list[WebSocketRoute] = []
        self.received: list[Frame] = []
        # A join with since: the answer (and any replay). Default: recovered, nothing replayed.
        self.rejoin: Callable[[Frame], list[Frame]] = lambda frame: [
            {"type": "joined", "room": frame["room"], "seq": frame["since"], "recovered": True}
        ]

    def attach(self, page: Page) -> None:
        page.route_web_socket(re.compile(r"^ws://127\.0\.0\.1:\d+/dev$"), self._accept)

    def push(self, *frames: Frame) -> None:
        """FRAMES to the page's current socket."""
        for frame in frames:
            self.sockets[-1].send(json.dumps(frame))

    def joins_with_since(self) -> list[Frame]:
        return [f for f in self.received if f.get("action") == "join" and "since" in f]

    def _accept(self, socket: WebSocketRoute) -> None:
        self.sockets.append(socket)
        me = f"FakeConnection{len(self.sockets)}="
        socket.on_message(lambda text: self._answer(socket, me, text))

    def _answer(self, socket: WebSocketRoute, me: str, text: str | bytes) -> None:
        frame = json.loads(text)
        self.received.append(frame)
        action, room = frame.get("action"), frame.get("room")
        answers: list[Frame] = []
        if action == "whoami":
            answers = [{"type": "whoami", "connectionId": me}]
        elif action == "join":
            joined = {"type": "joined", "room": room, "seq": 0}
            answers = self.rejoin(frame) if "since" in frame else [joined]
        elif action == "presence":
            members = [{"connectionId": me, "sub": None}]
            answers = [{"type": "presence", "room": room, "count": 1, "members": members}]
        for answer in answers:
            socket.send(json.dumps(answer))


def envelope(seq: int | None, text: str, room: str | None = "order") -> Frame:
    sender = {"connectionId": "PeerConnection1=", "sub": "bob"} if room else None
    return {
        "type": "message",
        "room": room,
        "seq": seq,
        "id": f"id-{text}",
        "from": sender,
        "data": text,
    }


def until(page: Page, done: Callable[[], bool]) -> None:
    """Let Playwright deliver the page's frames to the fake until DONE (at most 10 s)."""
    deadline = time.monotonic() + 10
    while not done():
        assert time.monotonic() < deadline, "the page did not send what was expected"
        page.wait_for_timeout(20)  # Playwright's own wait: not the page's (paused) clock


def test_messages_show_once_in_seq_order_and_a_lost_one_is_asked_for_once_then_skipped(
    open_page: OpenPage,
) -> None:
    fake = FakeGateway()
    page = open_page(clock=True, before=fake.attach)
    assert connection_id(page) == "FakeConnection1="
    join(page, "order")
    hold_timers(page)

    fake.push(*(envelope(seq, f"m{seq}") for seq in (2, 1, 1, 3, 2)))
    fake.push(envelope(None, "to all", room=None), envelope(None, "to all", room=None))
    fake.push(envelope(5, "m5"))  # 4 is missing

    gap = room_item(page, "order").get_by_test_id("room-gap")
    expect(gap).to_have_text("waiting for message 4…")  # 5 is held back
    expect(in_room(page, "order")).to_have_text(["m1", "m2", "m3"])
    everyone = page.locator('[data-testid="message"][data-room=""]')
    expect(everyone).to_have_count(1)
    expect(everyone.get_by_test_id("message-from")).to_have_text("server")
    expect(in_room(page, "order", "message-from")).to_have_text(["bob"] * 3)

    page.clock.run_for(GAP_WAIT_MS)  # the gap is still open: the page asks for what follows 3
    expect(gap).to_have_text("asking for message 4…")
    until(page, lambda: len(fake.joins_with_since()) == 1)
    assert fake.joins_with_since() == [{"action": "join", "room": "order", "since": 3}]
    fake.push(envelope(5, "m5"))  # a replay brings 5 again, never 4

    page.clock.run_for(GAP_WAIT_MS)  # and then moves on without 4
    expect(notice(page, "Message 4 of #order never arrived")).to_have_count(1)
    expect(in_room(page, "order")).to_have_text(["m1", "m2", "m3", "m5"])
    expect(gap).to_have_count(0)
    fake.push(envelope(6, "m6"), envelope(5, "m5"))
    page.clock.run_for(2 * GAP_WAIT_MS)  # no gap is open: nothing more is asked

    fake.push(envelope(7, "m7"))  # after all the others, on the same socket
    expect(in_room(page, "order")).to_have_text(["m1", "m2", "m3", "m5", "m6", "m7"])
    expect(in_room(page, "order", "message-seq")).to_have_text(["1", "2", "3", "5", "6", "7"])
    expect(page.get_by_test_id("message")).to_have_count(7)  # and "to all" once
    assert len(fake.joins_with_since()) == 1


def test_a_restarted_server_whose_seqs_start_again_is_said_and_followed(
    open_page: OpenPage,
) -> None:
    fake = FakeGateway()
    page = open_page(clock=True, before=fake.attach)
    join(page, "order")
    fake.push(envelope(1, "before 1"), envelope(2, "before 2"))
    expect(in_room(page, "order")).to_have_text(["before 1", "before 2"])

    hold_timers(page)
    # The restarted server kept nothing: its room is back at seq 0.
    fake.rejoin = lambda frame: [{"type": "joined", "room": "order", "seq": 0, "recovered": False}]
    fake.sockets[-1].close(code=1001, reason="Going away")
    expect(notice(page, "Disconnected")).to_contain_text("code 1001")
    page.clock.run_for(1000)  # the first reconnect waits 0.25 to 0.5 s

    expect(page.get_by_test_id("connection-id")).to_have_text("FakeConnection2=")
    until(page, lambda: len(fake.joins_with_since()) == 1)
    assert fake.joins_with_since() == [{"action": "join", "room": "order", "since": 2}]
    expect(notice(page, "History unavailable for #order, reload")).to_contain_text("started again")
    expect(room_item(page, "order").get_by_test_id("room-warning")).to_be_visible()
    fake.push(envelope(1, "after 1"))
    expect(in_room(page, "order")).to_have_text(["before 1", "before 2", "after 1"])
