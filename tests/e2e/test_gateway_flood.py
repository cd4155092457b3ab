"""One client cannot starve a stage: while one floods, another chats, and every message of the
chatting client is delivered; the flooder hears `rate_limited` (the app's handler, serve)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.e2e.gateway_process import Gateway, start_gateway
from tests.reliability.report import Row, record

FLOOD = 300  # frames, sent as fast as the socket takes them
CHAT = 20  # messages, one every 0.2 s: within the default budget of 10 a second


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    # The default budget (MESSAGE_RATE 10, MESSAGE_BURST 20), as a user gets it.
    running = start_gateway(
        tmp_path_factory.mktemp("flood"), handler="entrypoints.aws_lambda:handler"
    )
    yield running
    assert running.stop() == 0, running.log()[-3000:]


async def frames(ws: ClientConnection, until: float) -> list[Any]:
    got: list[Any] = []
    loop = asyncio.get_running_loop()
    while (left := until - loop.time()) > 0:
        try:
            text = await asyncio.wait_for(ws.recv(), left)
        except TimeoutError:
            break
        got.append(json.loads(text) if str(text).startswith("{") else text)
    return got


def test_a_flooder_is_rate_limited_while_a_chatting_client_loses_nothing(
    gateway: Gateway,
) -> None:
    async def scenario() -> tuple[list[Any], list[Any]]:
        async with (
            connect(gateway.ws_url) as flooder,
            connect(gateway.ws_url) as chatter,
            connect(gateway.ws_url) as reader,
        ):
            for ws in (chatter, reader):
                await ws.send(json.dumps({"action": "join", "room": "chat"}))
                assert json.loads(await ws.recv())["type"] == "joined"

            async def flood() -> None:
                for n in range(FLOOD):
                    body = {"action": "sendmessage", "room": "chat", "data": f"flood {n}"}
                    await flooder.send(json.dumps(body))

            async def chat() -> None:
                for n in range(CHAT):
                    body = {"action": "sendmessage", "room": "chat", "data": f"chat {n}"}
                    await chatter.send(json.dumps(body))
                    await asyncio.sleep(0.2)

            await asyncio.gather(flood(), chat())
            until = asyncio.get_running_loop().time() + 5
            read, flooded = await asyncio.gather(frames(reader, until), frames(flooder, until))
            return read, flooded

    read, flooded = asyncio.run(asyncio.wait_for(scenario(), 90))
    data = [m["data"] for m in read if isinstance(m, dict) and m.get("type") == "message"]
    chat = [d for d in data if d.startswith("chat")]
    flood_heard = [d for d in data if d.startswith("flood")]
    limited = [f for f in flooded if isinstance(f, dict) and f.get("error") == "rate_limited"]
    assert chat == [f"chat {n}" for n in range(CHAT)]  # every one, in order
    seqs = [m["seq"] for m in read if isinstance(m, dict) and m.get("type") == "message"]
    assert seqs == list(range(1, len(seqs) + 1))  # refused frames take no place in the room
    assert limited, "the flooder was never told it was over budget"
    assert len(flood_heard) + len(limited) == FLOOD  # each flood frame: relayed, or refused
    assert len(flood_heard) < FLOOD // 2
    record(
        Row(
            test="flood from one client",
            load=f"1 flooder ({FLOOD} frames at once), 1 client chatting ({CHAT} messages, "
            "5 a second), 1 reader; serve, the app's handler, the default budget (10/s, "
            "burst 20)",
            faults=f"{len(limited)} of the flood's frames over budget",
            inputs="-",
            lost=f"0 of {CHAT} chat messages; the flooder got {len(limited)} `rate_limited`, "
            f"{len(flood_heard)} of its frames went out",
        )
    )
