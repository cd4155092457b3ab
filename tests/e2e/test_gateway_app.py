"""Switchboard's own handler behind the gateway, with each store: the chat protocol end to end."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.e2e.gateway_process import Gateway, start_gateway

APP_HANDLER = "entrypoints.aws_lambda:handler"


@pytest.fixture(scope="module", params=["memory", "dynamodb"])
def app_gateway(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    workdir = tmp_path_factory.mktemp(f"app-{request.param}")
    gateway = start_gateway(workdir, "--store", request.param, handler=APP_HANDLER)
    yield gateway
    assert gateway.stop() == 0, gateway.log()


def run(coroutine: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, 30))


async def frame(ws: ClientConnection) -> Any:
    return json.loads(await ws.recv())


async def send(ws: ClientConnection, **fields: Any) -> None:
    await ws.send(json.dumps(fields))


def test_hello_reaches_every_client(app_gateway: Gateway) -> None:
    async def scenario() -> list[str]:
        clients = [await connect(app_gateway.ws_url) for _ in range(3)]
        try:
            await clients[0].send("hello")
            return [str(await ws.recv()) for ws in clients]
        finally:
            for ws in clients:
                await ws.close()

    assert run(scenario()) == ["hello", "hello", "hello"]


def test_whoami_names_a_connection_the_management_api_knows(app_gateway: Gateway) -> None:
    api = app_gateway.management()

    async def scenario() -> str:
        async with connect(app_gateway.ws_url) as ws:
            await send(ws, action="whoami")
            answer = await frame(ws)
            assert answer["type"] == "whoami"
            info = await asyncio.to_thread(api.get_connection, ConnectionId=answer["connectionId"])
            assert info["Identity"]["SourceIp"] == "127.0.0.1"
            return str(answer["connectionId"])

    connection_id = run(scenario())
    with pytest.raises(api.exceptions.GoneException):
        api.post_to_connection(ConnectionId=connection_id, Data=b"after close")


def test_rooms_keep_their_messages_to_themselves(app_gateway: Gateway) -> None:
    async def scenario() -> None:
        a, b, c = [await connect(app_gateway.ws_url) for _ in range(3)]
        for ws, room in ((a, "r1"), (b, "r1"), (c, "r2")):
            await send(ws, action="join", room=room)
            assert await frame(ws) == {"type": "joined", "room": room}
        await send(a, action="sendmessage", room="r1", data="for r1")
        assert [await a.recv(), await b.recv()] == ["for r1", "for r1"]
        await send(c, action="sendmessage", room="r2", data="for r2")
        assert await c.recv() == "for r2"  # the first c hears: r1's message never came

        await send(b, action="leave", room="r1")
        assert await frame(b) == {"type": "left", "room": "r1"}
        await send(a, action="sendmessage", room="r1", data="again")
        assert await a.recv() == "again"
        await send(a, action="sendmessage", data="to all")
        assert [await ws.recv() for ws in (a, b, c)] == ["to all"] * 3  # b missed "again"
        for ws in (a, b, c):
            await ws.close()

    run(scenario())


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"action": "join"}, "missing_room"),
        ({"action": "join", "room": "no spaces!"}, "invalid_room"),
        ({"action": "leave", "room": 7}, "invalid_room"),
        ({"action": "sendmessage"}, "missing_data"),
    ],
)
def test_bad_frames_get_an_error_frame(
    app_gateway: Gateway, fields: dict[str, Any], error: str
) -> None:
    async def scenario() -> Any:
        async with connect(app_gateway.ws_url) as ws:
            await send(ws, **fields)
            return await frame(ws)

    answer = run(scenario())
    assert answer["type"] == "error"
    assert answer["error"] == error
    assert answer["message"]
