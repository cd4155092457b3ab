"""The @connections API on the gateway's port, through boto3's own client."""

from __future__ import annotations

import asyncio
import datetime
import urllib.error
import urllib.request
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.frames import Opcode

from tests.e2e.frame_client import FrameClient
from tests.e2e.gateway_process import Gateway


def run(coroutine: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, 30))


def test_get_post_delete(recording_gateway: Gateway) -> None:
    api = recording_gateway.management()

    async def scenario() -> None:
        async with connect(recording_gateway.ws_url, user_agent_header="api-test/2") as ws:
            await ws.send("id")
            connection_id = str(await ws.recv())
            info = await asyncio.to_thread(api.get_connection, ConnectionId=connection_id)
            assert info["Identity"] == {"SourceIp": "127.0.0.1", "UserAgent": "api-test/2"}
            assert isinstance(info["ConnectedAt"], datetime.datetime)
            assert info["LastActiveAt"] >= info["ConnectedAt"]

            await asyncio.to_thread(
                api.post_to_connection, ConnectionId=connection_id, Data=b'{"hi": 1}'
            )
            assert await ws.recv() == '{"hi": 1}'

            await asyncio.to_thread(api.delete_connection, ConnectionId=connection_id)
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000
            [call] = recording_gateway.wait_for_route(connection_id, "$disconnect")
            assert call["event"]["requestContext"]["disconnectStatusCode"] == 1000
            for call_api in (api.get_connection, api.delete_connection):
                with pytest.raises(api.exceptions.GoneException):
                    await asyncio.to_thread(call_api, ConnectionId=connection_id)

    run(scenario())


def test_gone_after_the_client_closes(recording_gateway: Gateway) -> None:
    api = recording_gateway.management()

    async def scenario() -> str:
        async with connect(recording_gateway.ws_url) as ws:
            await ws.send("id")
            return str(await ws.recv())

    connection_id = run(scenario())
    recording_gateway.wait_for_route(connection_id, "$disconnect")
    with pytest.raises(api.exceptions.GoneException):
        api.post_to_connection(ConnectionId=connection_id, Data=b"late")
    with pytest.raises(api.exceptions.GoneException):
        api.post_to_connection(ConnectionId="L0SM9cOFvHcCIhw=", Data=b"never existed")


def test_a_post_from_its_own_connect_is_gone(recording_gateway: Gateway) -> None:
    async def scenario() -> None:
        async with connect(f"{recording_gateway.ws_url}?tag=early&post_self=1"):
            pass

    run(scenario())
    connection_id = recording_gateway.connection_id("early")
    [call] = recording_gateway.calls(connection_id, "$connect")
    assert call["post_self"] == "GoneException"


def test_large_posts_arrive_whole_in_32_kb_frames(recording_gateway: Gateway) -> None:
    async def scenario() -> list[tuple[Opcode, int, bool]]:
        client = await FrameClient.connect(recording_gateway.ws_url)
        client.send_text(b"big:102400")
        frames: list[tuple[Opcode, int, bool]] = []
        while not frames or not frames[-1][2]:
            frame = await client.recv_frame()
            frames.append((frame.opcode, len(frame.data), frame.fin))
        client.close(1000)
        return frames

    assert run(scenario()) == [
        (Opcode.TEXT, 32768, False),
        (Opcode.CONT, 32768, False),
        (Opcode.CONT, 32768, False),
        (Opcode.CONT, 4096, True),
    ]


def test_payload_over_128_kb_is_refused(recording_gateway: Gateway) -> None:
    api = recording_gateway.management()

    async def scenario() -> None:
        async with connect(recording_gateway.ws_url) as ws:
            await ws.send("id")
            connection_id = str(await ws.recv())
            with pytest.raises(api.exceptions.PayloadTooLargeException):
                await asyncio.to_thread(
                    api.post_to_connection, ConnectionId=connection_id, Data=b"x" * 131073
                )
            limit = b"y" * 131072
            await asyncio.to_thread(api.post_to_connection, ConnectionId=connection_id, Data=limit)
            assert await ws.recv() == limit.decode()

    run(scenario())


def test_unsigned_requests_are_forbidden(recording_gateway: Gateway) -> None:
    url = f"{recording_gateway.http_url}/@connections/L0SM9cOFvHcCIhw%3D"
    request = urllib.request.Request(url, data=b"hi", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403
    assert refused.value.headers["x-amzn-ErrorType"] == "ForbiddenException"
