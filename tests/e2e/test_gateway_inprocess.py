"""The app behind `serve` behaves the same whether its posts reach the gateway in-process
(the default) or over HTTP (--no-inprocess): broadcasts, rooms, big messages, 410 pruning.

Every $disconnect is dropped (--drop-disconnect-rate 1.0), so each closed client stays in the
store as a ghost until a post to it gets 410 and the app prunes it, as on AWS.

Long: each case runs twice, in-process and over HTTP, against one fixture.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.frames import Opcode

from tests.e2e.frame_client import FrameClient
from tests.e2e.gateway_process import Gateway, start_gateway

APP_HANDLER = "entrypoints.aws_lambda:handler"
PAST_GRACE_S = 2.2  # FANOUT_ESTABLISH_GRACE_MS is 2,000 by default
PATHS = {
    "inprocess": ((), "are delivered in-process"),
    "http": (("--no-inprocess",), "go over HTTP"),
}


@pytest.fixture(scope="module", params=sorted(PATHS))
def path(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def gateway(path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    flags, _ = PATHS[path]
    lossy = ("--drop-disconnect-rate", "1.0", "--seed", "1")
    workdir = tmp_path_factory.mktemp(f"path-{path}")
    running = start_gateway(workdir, "--store", "memory", *lossy, *flags, handler=APP_HANDLER)
    yield running
    assert running.stop() == 0, running.log()[-3000:]


def run(coroutine: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, 60))


async def send(ws: ClientConnection, **fields: Any) -> None:
    await ws.send(json.dumps(fields))


def sends_by(gateway: Gateway, connection_id: str, count: int) -> list[dict[str, Any]]:
    """The app's `invocation` records of this connection's sendmessages, once there are `count`."""
    deadline = time.monotonic() + 30
    while True:
        found = []
        for line in gateway.log_lines():
            if line.startswith("{") and '"invocation"' in line:
                record = json.loads(line)
                if record.get("connection_id") == connection_id and (
                    record.get("command") == "sendmessage"
                ):
                    found.append(record)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


async def next_data(ws: ClientConnection) -> Any:
    """The data of the next message envelope; presence events (members coming and going) are
    skipped."""
    while True:
        answer = json.loads(await ws.recv())
        if answer["type"] == "message":
            return answer["data"]
        assert answer["type"] == "presence", answer


async def whoami(ws: ClientConnection) -> str:
    await send(ws, action="whoami")
    return str(json.loads(await ws.recv())["connectionId"])


def test_the_gateway_says_which_path_it_uses(path: str, gateway: Gateway) -> None:
    _, words = PATHS[path]
    assert re.search(rf"@connections posts to \S+ {words}", gateway.log())


def test_a_broadcast_reaches_every_client(gateway: Gateway) -> None:
    async def scenario() -> list[str]:
        clients = [await connect(gateway.ws_url) for _ in range(3)]
        try:
            await clients[0].send("hello, everyone")
            return [str(await ws.recv()) for ws in clients]
        finally:
            for ws in clients:
                await ws.close()

    assert run(scenario()) == ["hello, everyone"] * 3


def test_a_room_message_reaches_its_members_only(gateway: Gateway) -> None:
    async def scenario() -> list[str]:
        a, b, c = [await connect(gateway.ws_url) for _ in range(3)]
        try:
            for ws, room in ((a, "r1"), (b, "r1"), (c, "r2")):
                await send(ws, action="join", room=room)
                assert json.loads(await ws.recv()) == {"type": "joined", "room": room, "seq": 0}
            await send(a, action="sendmessage", room="r1", data="for r1")
            await send(c, action="sendmessage", room="r2", data="for r2")
            return [await next_data(ws) for ws in (a, b, c)]
        finally:
            for ws in (a, b, c):
                await ws.close()

    assert run(scenario()) == ["for r1", "for r1", "for r2"]  # c never heard r1's message


def test_a_100_kb_message_arrives_in_32_kb_frames(gateway: Gateway) -> None:
    text = "".join(chr(ord("a") + n % 26) for n in range(100 * 1024))

    async def scenario() -> list[tuple[Opcode, bool, bytes]]:
        receiver = await FrameClient.connect(gateway.ws_url)
        async with connect(gateway.ws_url) as sender:
            await sender.send([text[i : i + 25_600] for i in range(0, len(text), 25_600)])
            frames = [await receiver.recv_frame()]
            while not frames[-1].fin:
                frames.append(await receiver.recv_frame())
            assert await sender.recv() == text
        receiver.close(1000)
        return [(f.opcode, f.fin, bytes(f.data)) for f in frames]

    frames = run(scenario())
    assert [(opcode, fin, len(data)) for opcode, fin, data in frames] == [
        (Opcode.TEXT, False, 32 * 1024),
        (Opcode.CONT, False, 32 * 1024),
        (Opcode.CONT, False, 32 * 1024),
        (Opcode.CONT, True, 4 * 1024),
    ]
    assert b"".join(data for _, _, data in frames).decode() == text


def test_a_gone_connection_is_pruned_by_the_next_broadcast(gateway: Gateway) -> None:
    async def scenario() -> tuple[str, list[dict[str, Any]]]:
        async with connect(gateway.ws_url) as steady:
            steady_id = await whoami(steady)
            # A first broadcast prunes what earlier tests left behind, once past the grace.
            await asyncio.sleep(PAST_GRACE_S)
            await send(steady, action="sendmessage", data="sweep")
            assert await next_data(steady) == "sweep"
            async with connect(gateway.ws_url) as ghost:
                ghost_id = await whoami(ghost)
            # Its $disconnect is dropped: only a 410 tells the app it is gone.
            await asyncio.to_thread(wait_for_drop, gateway, ghost_id)
            for text in ("young ghost", "old ghost", "after the prune"):
                await send(steady, action="sendmessage", data=text)
                assert await next_data(steady) == text
                if text == "young ghost":
                    await asyncio.sleep(PAST_GRACE_S)
        return ghost_id, await asyncio.to_thread(sends_by, gateway, steady_id, 4)

    ghost_id, (_, young, old, after) = run(scenario())
    counts = ("recipients", "delivered", "pruned", "failed")
    # Younger than the grace, its 410 may be a handshake still going on: spared, counted failed.
    assert [young[k] for k in counts] == [2, 1, 0, 1], ghost_id
    assert [old[k] for k in counts] == [2, 1, 1, 0], ghost_id
    assert [after[k] for k in counts] == [1, 1, 0, 0]


def wait_for_drop(gateway: Gateway, connection_id: str) -> None:
    deadline = time.monotonic() + 30
    while f"dropped $disconnect connection={connection_id}" not in gateway.log():
        assert time.monotonic() < deadline, f"no dropped $disconnect for {connection_id}"
        time.sleep(0.05)
