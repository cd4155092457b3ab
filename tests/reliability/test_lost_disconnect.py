"""A lost $disconnect (AWS delivers it on a best-effort basis) leaves no lasting ghost.

The gateway drops every $disconnect here. The ghosts' records stay in the table until the next
broadcast posts to them, gets 410 and prunes them. A record nobody posts to (no broadcast came)
is skipped once its expiresAt has passed, and DynamoDB's TTL on expiresAt removes it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest

from adapters.dynamodb.items import connection_item, membership_items
from domain.model import Connection
from infra.tables import ttl_attribute
from tests.e2e.gateway_process import Gateway, start_gateway
from tests.reliability import gateway_checks as checks
from tests.reliability.report import Row, record
from tests.reliability.ws_client import Client

APP_HANDLER = "entrypoints.aws_lambda:handler"
GHOSTS = 6  # half of them leave with a room membership, a third abruptly
EXPIRED_ID = "EXPIREDghost000="
PAST_GRACE_S = 2.2  # FANOUT_ESTABLISH_GRACE_MS is 2,000 by default


@pytest.fixture(scope="module")
def lossy_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gateway = start_gateway(
        tmp_path_factory.mktemp("lost-disconnect"),
        "--store",
        "dynamodb",
        "--drop-disconnect-rate",
        "1.0",
        handler=APP_HANDLER,
    )
    yield gateway
    assert gateway.stop() == 0, gateway.log()[-3000:]


def owners(items: list[dict[str, Any]]) -> dict[str, int]:
    """Connection id -> how many items (record and memberships) the table holds for it."""
    counts: dict[str, int] = {}
    for item in items:
        counts[item["connectionId"]["S"]] = counts.get(item["connectionId"]["S"], 0) + 1
    return counts


async def broadcast(steady: Client, gateway: Gateway, room: str | None = None) -> dict[str, Any]:
    """Send one sendmessage, wait until it was handled; the handler's record of it."""
    frame: dict[str, Any] = {"action": "sendmessage", "data": f"to {room or 'everyone'}"}
    if room:
        frame["room"] = room
    await steady.send(frame)
    await steady.sync()
    return checks.invocations(gateway, connection_id=steady.connection_id, command="sendmessage")[
        -1
    ]


def test_ghosts_are_pruned_by_the_next_broadcast(lossy_gateway: Gateway) -> None:
    async def scenario() -> tuple[dict[str, int], dict[str, Any], dict[str, int], list[str]]:
        steady = await Client.open(lossy_gateway.ws_url)
        await steady.sync()
        ghosts = []
        for n in range(GHOSTS):
            ghost = await Client.open(lossy_gateway.ws_url)
            if n % 2:
                await ghost.send({"action": "join", "room": "lobby"})
            await ghost.sync()
            ghosts.append(ghost.connection_id)
            await (ghost.abort() if n % 3 == 0 else ghost.close())
        await asyncio.to_thread(
            checks.wait_for_lines, lossy_gateway, "dropped \\$disconnect", GHOSTS, 30.0
        )
        before = owners(await asyncio.to_thread(checks.table_items, lossy_gateway))
        await asyncio.sleep(PAST_GRACE_S)  # a younger record's 410 does not prune it
        result = await broadcast(steady, lossy_gateway)
        after = owners(await asyncio.to_thread(checks.table_items, lossy_gateway))
        await steady.close()
        return before, result, after, [steady.connection_id, *ghosts]

    before, result, after, (steady_id, *ghosts) = asyncio.run(asyncio.wait_for(scenario(), 90))
    assert {g: before.get(g) for g in ghosts} == {
        g: 2 if n % 2 else 1 for n, g in enumerate(ghosts)
    }
    assert (result["recipients"], result["delivered"], result["pruned"]) == (GHOSTS + 1, 1, GHOSTS)
    assert set(after) == {steady_id}  # records and memberships of every ghost are gone
    figures = Row(
        test="lost `$disconnect`, then a broadcast",
        load=f"{GHOSTS + 1} connections, DynamoDB store",
        faults=f"every `$disconnect` dropped: {GHOSTS} ghosts, {GHOSTS // 2} with a membership",
        inputs="-",
        lost=f"0; {result['pruned']} of {GHOSTS} ghosts pruned by the next broadcast's 410",
    )
    print(figures)
    record(figures)


def test_an_expired_ghost_is_skipped_and_left_to_ttl(lossy_gateway: Gateway) -> None:
    table = checks.dynamodb(lossy_gateway)
    past = int(time.time()) - 60
    ghost = Connection(EXPIRED_ID, past * 1000 - 7_200_000, past, frozenset({"lobby"}))

    async def scenario() -> tuple[dict[str, Any], dict[str, Any], dict[str, int]]:
        steady = await Client.open(lossy_gateway.ws_url)
        await steady.sync()
        await steady.send({"action": "join", "room": "lobby"})
        await broadcast(steady, lossy_gateway)  # prunes earlier tests' ghosts, if any
        for item in (connection_item(ghost), *membership_items(ghost)):
            await asyncio.to_thread(table.put_item, TableName=checks.TABLE, Item=item)
        everyone = await broadcast(steady, lossy_gateway)
        lobby = await broadcast(steady, lossy_gateway, room="lobby")
        after = owners(await asyncio.to_thread(checks.table_items, lossy_gateway))
        await steady.close()
        return everyone, lobby, after

    everyone, lobby, after = asyncio.run(asyncio.wait_for(scenario(), 60))
    # Not counted, not posted to: a post would have got 410 and pruned it.
    assert (everyone["recipients"], everyone["pruned"]) == (1, 0)
    assert (lobby["recipients"], lobby["pruned"]) == (1, 0)
    assert after[EXPIRED_ID] == 2  # still there, for TTL to remove
    ttl = table.describe_time_to_live(TableName=checks.TABLE)["TimeToLiveDescription"]
    assert ttl_attribute() == "expiresAt"  # what infra/template.yaml declares
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expiresAt")
    figures = Row(
        test="lost `$disconnect`, no broadcast",
        load="1 connection, DynamoDB store",
        faults="an expired record and membership (expiresAt in the past) written into the table",
        inputs="-",
        lost="0; skipped by 2 broadcasts (not counted, not posted), left to TTL on expiresAt",
    )
    print(figures)
    record(figures)
