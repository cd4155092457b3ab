"""A page that reconnects shows what it missed, once each and in order, or says it cannot.

The page's connection is closed with DELETE @connections while a second client (websockets)
stays in the room; Playwright's clock holds the page's reconnect back until that client's
messages are all in the room's history, so the page can only get them through its rejoin.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.chat import (
    OpenPage,
    Peer,
    connection_id,
    hold_timers,
    in_room,
    join,
    notice,
    peer,
    room_item,
)
from tests.browser.gateway import Gateway, running_gateway

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def short_history(tmp_path: Path) -> Iterator[Gateway]:
    """A gateway whose rooms keep their last 2 messages only."""
    with running_gateway(tmp_path, env={"HISTORY_SIZE": "2"}) as started:
        yield started


def drop_while_peer_sends(
    page: Page, gateway: Gateway, other: Peer, room: str, count: int
) -> list[int]:
    """Close the page's connection, hold its reconnect, and have OTHER send COUNT messages
    to ROOM meanwhile (each back at OTHER before the next); their seqs."""
    hold_timers(page)
    gateway.delete_connection(connection_id(page))
    expect(notice(page, "Disconnected")).to_contain_text("code 1000")
    return [other.send(room, f"missed {n}") for n in range(1, count + 1)]


def test_a_reconnecting_page_shows_what_it_missed_once_each_in_order(
    open_page: OpenPage, gateway: Gateway
) -> None:
    page = open_page(clock=True)
    join(page, "recovery")
    with peer(gateway.ws_url) as bob:
        assert bob.join("recovery") == 0  # a fresh room: its seqs are 1, 2, 3...

        seqs = drop_while_peer_sends(page, gateway, bob, "recovery", 5)
        page.clock.resume()  # the page reconnects and rejoins with since

        assert seqs == [1, 2, 3, 4, 5]
        texts = [f"missed {n}" for n in range(1, 6)]
        expect(in_room(page, "recovery")).to_have_text(texts)
        expect(in_room(page, "recovery", "message-seq")).to_have_text([str(s) for s in seqs])
        live = bob.send("recovery", "live after the rejoin")
        expect(in_room(page, "recovery")).to_have_text([*texts, "live after the rejoin"])

    assert live == 6
    expect(in_room(page, "recovery", "message-seq")).to_have_text([str(s) for s in range(1, 7)])
    expect(room_item(page, "recovery").get_by_test_id("room-warning")).to_have_count(0)
    expect(notice(page, "History unavailable")).to_have_count(0)


def test_a_page_says_so_when_the_history_cannot_cover_its_gap(
    open_page: OpenPage, short_history: Gateway
) -> None:
    page = open_page(on=short_history, clock=True)
    join(page, "lossy")
    with peer(short_history.ws_url) as bob:
        bob.join("lossy")
        drop_while_peer_sends(page, short_history, bob, "lossy", 4)  # 2 kept: 1 and 2 lost
        page.clock.resume()

        expect(notice(page, "History unavailable for #lossy, reload")).to_have_count(1)
        warning = room_item(page, "lossy").get_by_test_id("room-warning")
        expect(warning).to_be_visible()
        bob.send("lossy", "live after the loss")

        # Nothing replayed (not even the 2 still kept): the page goes on from the latest seq.
        expect(in_room(page, "lossy")).to_have_text(["live after the loss"])
        expect(in_room(page, "lossy", "message-seq")).to_have_text(["5"])


def test_a_page_in_many_rooms_rejoins_them_all_within_the_message_budget(
    open_page: OpenPage, gateway: Gateway
) -> None:
    """12 rooms: a reconnect sends 25 frames (a whoami, a join and a presence per room), more
    than the budget's burst of 20. The page paces them: no room is left refused."""
    page = open_page()
    rooms = [f"many-{n:02}" for n in range(12)]
    for room in rooms:
        join(page, room)
    gateway.delete_connection(connection_id(page))
    expect(notice(page, "Disconnected")).to_contain_text("code 1000")
    for room in rooms:
        expect(room_item(page, room).get_by_test_id("presence")).to_contain_text("1 here")
    expect(notice(page, "rate_limited")).to_have_count(0)
