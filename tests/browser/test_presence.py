"""Who is in a room, under `switchboard serve --auth`: names and counts follow joins, a Leave
and a closed tab; a token given in the page's address is used and never shown."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from adapters.tokens.jwt_tokens import mint
from entrypoints.commands.local_secret import LOCAL_AUDIENCE, LOCAL_ISSUER
from tests.browser.chat import OpenPage, connection_id, join, room_item
from tests.browser.gateway import Gateway, running_gateway

pytestmark = pytest.mark.timeout(90)
SECRET = secrets.token_urlsafe(32)


@pytest.fixture
def auth_gateway(tmp_path: Path) -> Iterator[Gateway]:
    """`serve --auth` with a secret of this test's own, never the user's."""
    secret_file = tmp_path / "local-auth-secret"
    secret_file.write_text(SECRET + "\n")
    env = {"SWITCHBOARD_SECRET_FILE": str(secret_file)}
    with running_gateway(tmp_path, "--auth", env=env) as started:
        yield started


def token(sub: str) -> str:
    return mint(SECRET, sub, ["team"], 600, LOCAL_ISSUER, LOCAL_AUDIENCE)


def presence(page: Page) -> Locator:
    return room_item(page, "team").get_by_test_id("presence")


def test_presence_follows_joins_a_leave_and_a_closed_tab(
    open_page: OpenPage, auth_gateway: Gateway
) -> None:
    tokens = {name: token(name) for name in ("alice", "bob", "carol")}
    alice, bob, carol = (open_page(on=auth_gateway, query=f"?token={t}") for t in tokens.values())
    for page in (alice, bob, carol):
        connection_id(page)  # connected: the authorizer took the token from the address

    join(alice, "team")
    expect(presence(alice)).to_have_text("1 here: alice (you)")
    join(bob, "team")
    expect(presence(bob)).to_have_text("2 here: alice, bob (you)")
    expect(presence(alice)).to_have_text("2 here: alice (you), bob")
    join(carol, "team")
    expect(presence(carol)).to_have_text("3 here: alice, bob, carol (you)")
    for page in (alice, bob):
        expect(presence(page)).to_contain_text("3 here: ")

    room_item(bob, "team").get_by_test_id("leave").click()
    expect(room_item(bob, "team")).to_have_count(0)
    expect(presence(alice)).to_have_text("2 here: alice (you), carol")
    expect(presence(carol)).to_have_text("2 here: alice, carol (you)")

    carol.close()  # the tab closes: its socket ends, $disconnect tells the room
    expect(presence(alice)).to_have_text("1 here: alice (you)")

    for page, secret in ((alice, tokens["alice"]), (bob, tokens["bob"])):
        assert "token" not in page.url  # taken out of the address bar too
        assert "token" not in page.get_by_test_id("url").input_value()
        assert secret not in page.locator("body").inner_text()
        expect(page.get_by_test_id("status")).to_have_text(f"Connected to {auth_gateway.ws_url}")
