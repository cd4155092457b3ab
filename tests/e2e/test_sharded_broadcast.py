"""Sharded broadcasts through `switchboard serve`: 500 real clients, a threshold of 50, shards of
100 run by the local dispatcher's workers; everyone hears each message exactly once."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.e2e.gateway_process import Gateway, start_gateway

CLIENTS = 500
ROOM_MEMBERS = 300


@pytest.fixture(scope="module")
def sharding_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    with pytest.MonkeyPatch.context() as env:  # start_gateway passes our environment on
        for name, value in {
            "SHARD_THRESHOLD": "50",
            "SHARD_SIZE": "100",
            "SHARD_WORKERS": "4",
        }.items():
            env.setenv(name, value)
        env.delenv("DISPATCH", raising=False)
        env.delenv("FANOUT_QUEUE_URL", raising=False)
        gateway = start_gateway(
            tmp_path_factory.mktemp("sharded"), handler="entrypoints.aws_lambda:handler"
        )
    yield gateway
    assert gateway.stop() == 0, gateway.log()


def shard_logs(gateway: Gateway) -> list[dict[str, Any]]:
    """The worker's "shard complete" lines (Powertools JSON on the server's stdout)."""
    found = []
    for line in gateway.log_lines():
        if line.startswith("{") and '"shard complete"' in line:
            found.append(json.loads(line))
    return found


async def wait_for_shards(gateway: Gateway, count: int, timeout: float = 60) -> list[str]:
    """The broadcast ids of the first `count` completed shards, once there are that many."""
    deadline = time.monotonic() + timeout
    while len(done := shard_logs(gateway)) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(done)} of {count} shards completed:\n{gateway.log()}")
        await asyncio.sleep(0.1)
    return [d["broadcast_id"] for d in done]


async def inbox(client: ClientConnection, quiet: float) -> list[str]:
    """Every message the client holds or gets until `quiet` seconds pass without one."""
    got: list[str] = []
    while True:
        try:
            message = await asyncio.wait_for(client.recv(), quiet)
        except TimeoutError:
            return got
        got.append(message if isinstance(message, str) else message.decode())


async def until_joined(client: ClientConnection) -> None:
    """Reads up to the client's `joined`; presence events of earlier joiners may come first."""
    while json.loads(await client.recv())["type"] != "joined":
        pass


def is_presence(text: str) -> bool:
    """A presence event: the first PRESENCE_EVENTS_MAX (100) joiners hear those after them."""
    return text.startswith("{") and json.loads(text)["type"] == "presence"


def test_five_hundred_clients_hear_sharded_broadcasts_exactly_once(
    sharding_gateway: Gateway,
) -> None:
    async def scenario() -> None:
        clients = await asyncio.gather(
            *(
                connect(sharding_gateway.ws_url, open_timeout=60, ping_interval=None)
                for _ in range(CLIENTS)
            )
        )
        try:
            members = clients[:ROOM_MEMBERS]
            for client in members:
                await client.send(json.dumps({"action": "join", "room": "big"}))
            await asyncio.gather(*(until_joined(c) for c in members))

            # Everyone: 500 > 50, so Scan segments: ceil(500 / 100) = 5 shards.
            await clients[-1].send("hello, everyone")
            broadcasts = await wait_for_shards(sharding_gateway, 5)
            assert len(set(broadcasts)) == 1
            # A room: 300 members > 50, so ranges of the room's ids: 3 shards.
            await clients[-1].send(
                json.dumps({"action": "sendmessage", "room": "big", "data": "hello, room"})
            )
            broadcasts = await wait_for_shards(sharding_gateway, 5 + 3)
            assert len(set(broadcasts)) == 2

            # Every shard is done, so any duplicate is posted already: wait out the quiet.
            heard = await asyncio.gather(*(inbox(c, quiet=2.0) for c in clients))
            heard = [[m for m in h if not is_presence(m)] for h in heard]
            envelopes = {m for h in heard[:ROOM_MEMBERS] for m in h if m.startswith("{")}
            assert len(envelopes) == 1, envelopes  # every shard posted the same bytes
            (envelope,) = envelopes
            room_message = json.loads(envelope)
            assert (room_message["room"], room_message["seq"]) == ("big", 1)
            assert room_message["data"] == "hello, room"
            expected_member = sorted(["hello, everyone", envelope])
            assert [sorted(h) for h in heard[:ROOM_MEMBERS]] == [expected_member] * ROOM_MEMBERS
            assert heard[ROOM_MEMBERS:] == [["hello, everyone"]] * (CLIENTS - ROOM_MEMBERS)
        finally:
            await asyncio.gather(*(c.close() for c in clients))

    asyncio.run(asyncio.wait_for(scenario(), 240))
    shards = shard_logs(sharding_gateway)
    assert sum(s["delivered"] for s in shards) == CLIENTS + ROOM_MEMBERS
    assert {(s["pruned"], s["failed"]) for s in shards} == {(0, 0)}
    assert not re.search(r"dead-letter", sharding_gateway.log())
