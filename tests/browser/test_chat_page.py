"""The chat page in a real Chromium against `switchboard serve`: rooms, errors, reconnects."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from entrypoints.local_gateway.web.page import page_response
from tests.browser.chat import LATENCY, OpenPage, connection_id, join, message, send
from tests.browser.gateway import Gateway

# Every test here needs the `browser` fixture, which skips when Debian's chromium is missing.
pytestmark = pytest.mark.timeout(90)
Screenshot = Callable[[Page, str], Path]


def test_a_message_to_a_room_reaches_its_members_only(
    open_page: OpenPage, screenshot: Screenshot
) -> None:
    alice, bob, carol = open_page(), open_page(), open_page()
    ids = [connection_id(page) for page in (alice, bob, carol)]
    assert len(set(ids)) == 3
    join(alice, "lobby")
    join(bob, "lobby")
    join(carol, "kitchen")

    send(alice, "hello lobby", room="lobby")

    own = message(alice, "hello lobby")
    expect(own).to_have_attribute("data-own", "true")
    expect(own.get_by_test_id("message-room")).to_have_text("#lobby")
    expect(own.get_by_test_id("latency")).to_have_text(LATENCY)
    expect(own.get_by_test_id("message-from")).to_have_text("you")
    received = message(bob, "hello lobby")
    expect(received).to_have_attribute("data-own", "false")
    # No authorizer, so no sub: the sender is shown by the start of its connection id.
    expect(received.get_by_test_id("message-from")).to_have_text(f"{ids[0][:6]}…")
    expect(received.get_by_test_id("message-seq")).to_have_text(
        own.get_by_test_id("message-seq").inner_text()
    )
    expect(received.get_by_test_id("message-room")).to_have_text("#lobby")
    expect(received.get_by_test_id("latency")).to_have_count(0)

    # Sent after the lobby's message reached both members: once carol has this one, she would
    # have had the lobby's too, had it been sent to her.
    send(bob, "hello everyone")
    for page in (alice, bob, carol):
        expect(message(page, "hello everyone").get_by_test_id("message-room")).to_have_text(
            "everyone"
        )
    expect(message(carol, "hello lobby")).to_have_count(0)
    expect(message(bob, "hello everyone").get_by_test_id("latency")).to_have_text(LATENCY)

    for name, page in (("alice", alice), ("bob", bob), ("carol", carol)):
        screenshot(page, f"room-{name}")


def test_a_page_shows_a_server_side_close_and_reconnects_into_its_rooms(
    open_page: OpenPage, gateway: Gateway, screenshot: Screenshot
) -> None:
    page = open_page()
    first = connection_id(page)
    join(page, "lobby")

    gateway.delete_connection(first)

    expect(page.get_by_test_id("notice").filter(has_text="Disconnected")).to_contain_text(
        "code 1000"
    )
    expect(page.get_by_test_id("connection-id")).not_to_have_text(first)
    second = connection_id(page)
    assert second != first
    expect(page.get_by_test_id("room")).to_have_count(1)
    expect(page.get_by_test_id("room")).not_to_contain_text("rejoining")
    send(page, "back in the lobby", room="lobby")
    expect(message(page, "back in the lobby").get_by_test_id("latency")).to_have_text(LATENCY)
    screenshot(page, "reconnected")


def test_an_error_frame_is_shown_and_changes_nothing(
    open_page: OpenPage, screenshot: Screenshot
) -> None:
    page = open_page()
    connection_id(page)

    page.get_by_test_id("room-input").fill("no spaces")
    page.get_by_test_id("join").click()

    error = page.locator('[data-testid="notice"][data-kind="error"]')
    expect(error).to_contain_text("invalid_room")
    expect(error).to_contain_text('"room" must be 1 to 128 characters')
    expect(page.get_by_test_id("room")).to_have_count(0)
    screenshot(page, "error-frame")


def test_serve_serves_the_page_at_its_root(browser: Browser, gateway: Gateway) -> None:
    for path in ("/", "/app.js", "/style.css"):
        expected = page_response(path)
        assert expected is not None
        status, headers, body = gateway.get(path)
        assert (status, body) == (200, expected[2]), f"GET {path} is not the page's file"
        assert "connect-src 'self' ws: wss:" in headers["Content-Security-Policy"]
    assert gateway.get("/static/app.js")[0] == 404

    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{gateway.port}/")
        # The page derives the gateway's own WebSocket URL from where it was loaded.
        expect(page.get_by_test_id("url")).to_have_value(gateway.ws_url)
        connection_id(page)
    finally:
        context.close()


def test_serve_with_no_page_serves_none_of_it(gateway_without_page: Gateway) -> None:
    expected = page_response("/")
    assert expected is not None
    assert gateway_without_page.get("/")[2] != expected[2]
    assert gateway_without_page.get("/app.js")[0] == 404
    assert gateway_without_page.get("/style.css")[0] == 404
