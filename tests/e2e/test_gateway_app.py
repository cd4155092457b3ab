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


async def whoami(ws: ClientConnection) -> str:
    await send(ws, action="whoami")
    answer = await frame(ws)
    return str(answer["connectionId"])


def envelope(room: str | None, seq: int | None, sender: str, data: Any) -> dict[str, Any]:
    """The message frame as a member receives it, its server-made id left out."""
    return {
        "type": "message",
        "room": room,
        "seq": seq,
        "data": data,
        "from": {"connectionId": sender, "sub": None},
    }


def without_id(message: dict[str, Any]) -> dict[str, Any]:
    """The frame without its id, which the server made (1-64 characters)."""
    made = message.pop("id")
    assert isinstance(made, str) and 1 <= len(made) <= 64, made
    return message


def test_rooms_keep_their_messages_to_themselves(app_gateway: Gateway) -> None:
    async def scenario() -> None:
        a, b, c = [await connect(app_gateway.ws_url) for _ in range(3)]
        ida, idb = await whoami(a), await whoami(b)
        for ws, room in ((a, "r1"), (b, "r1"), (c, "r2")):
            await send(ws, action="join", room=room)
            assert await frame(ws) == {"type": "joined", "room": room, "seq": 0}
        member_b = {"connectionId": idb, "sub": None}
        assert await frame(a) == {
            "type": "presence",
            "room": "r1",
            "event": "join",
            "member": member_b,
        }
        await send(a, action="sendmessage", room="r1", data={"n": 1}, id="first")
        for ws in (a, b):
            assert await frame(ws) == {**envelope("r1", 1, ida, {"n": 1}), "id": "first"}
        await send(c, action="sendmessage", room="r2", data="for r2")
        first_of_c = await frame(c)  # the first c hears: r1's message never came
        assert without_id(first_of_c)["room"] == "r2" and first_of_c["seq"] == 1

        await send(b, action="leave", room="r1")
        assert await frame(b) == {"type": "left", "room": "r1"}
        assert await frame(a) == {
            "type": "presence",
            "room": "r1",
            "event": "leave",
            "member": member_b,
        }
        await send(a, action="sendmessage", room="r1", data="again")
        assert without_id(await frame(a)) == envelope("r1", 2, ida, "again")
        await send(a, action="sendmessage", data="to all")
        for ws in (a, b, c):  # b missed "again"; a broadcast has no seq
            assert without_id(await frame(ws)) == envelope(None, None, ida, "to all")
        for ws in (a, b, c):
            await ws.close()

    run(scenario())


def test_a_client_back_from_a_drop_recovers_what_it_missed(app_gateway: Gateway) -> None:
    """join with since replays N+1..LAST after `joined`, in order, once each; a client that
    asks from a position the history no longer holds is told so (here: the future's)."""

    async def scenario() -> None:
        writer = await connect(app_gateway.ws_url)
        await send(writer, action="join", room="rec")
        assert (await frame(writer))["seq"] == 0
        reader = await connect(app_gateway.ws_url)
        await send(reader, action="join", room="rec")
        assert await frame(reader) == {"type": "joined", "room": "rec", "seq": 0}
        await send(writer, action="sendmessage", room="rec", data="seen")
        assert (await frame(reader))["data"] == "seen"
        await reader.close()  # away: 3 messages go out
        for n in range(3):
            await send(writer, action="sendmessage", room="rec", data=f"missed {n}")
        seqs: list[int] = []
        while len(seqs) < 4:  # the writer hears its own (and the reader's leave)
            answer = await frame(writer)
            if answer["type"] == "message":
                seqs.append(answer["seq"])
        assert seqs == [1, 2, 3, 4]

        back = await connect(app_gateway.ws_url)
        await send(back, action="join", room="rec", since=1)
        assert await frame(back) == {"type": "joined", "room": "rec", "seq": 4, "recovered": True}
        replayed = [await frame(back) for _ in range(3)]
        assert [(m["seq"], m["data"]) for m in replayed] == [
            (2, "missed 0"),
            (3, "missed 1"),
            (4, "missed 2"),
        ]
        await send(back, action="join", room="rec", since=4)  # nothing missed: nothing sent
        assert await frame(back) == {"type": "joined", "room": "rec", "seq": 4, "recovered": True}
        await send(writer, action="sendmessage", room="rec", data="live")
        assert (await frame(back))["seq"] == 5
        for ws in (writer, back):
            await ws.close()

    run(scenario())


def test_presence_counts_and_names_the_members(app_gateway: Gateway) -> None:
    async def scenario() -> None:
        clients = [await connect(app_gateway.ws_url) for _ in range(3)]
        ids = sorted([await whoami(ws) for ws in clients])
        for ws in clients:
            await send(ws, action="join", room="here")
            assert (await frame(ws))["type"] == "joined"
        outsider = await connect(app_gateway.ws_url)
        await send(outsider, action="presence", room="here")
        answer = await frame(outsider)
        assert answer["count"] == 3
        assert sorted(m["connectionId"] for m in answer["members"]) == ids
        for ws in [*clients, outsider]:
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
