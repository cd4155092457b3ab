"""API Gateway's limits and failure modes: frame and message sizes, binary, lost clients.

Long: each AWS limit gets its own case against the same gateway fixture.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.e2e.frame_client import FrameClient
from tests.e2e.gateway_process import Gateway, start_gateway


def run(coroutine: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, 30))


async def closed_with(ws: ClientConnection) -> int:
    """The close code the server sent, once the connection is closed."""
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await ws.recv()
    assert closed.value.rcvd is not None, "the server sent no close frame"
    return closed.value.rcvd.code


@pytest.mark.parametrize(
    ("tag", "message", "code"),
    [
        ("frame-33k", "x" * (32 * 1024 + 1), 1009),  # one frame over 32 KB
        ("message-150k", ["x" * 30_000] * 5, 1009),  # 30 KB frames, 150 KB in all
        ("binary", b"\x00\x01", 1003),
    ],
)
def test_limits_close_the_connection(
    recording_gateway: Gateway, tag: str, message: Any, code: int
) -> None:
    async def scenario() -> int:
        async with connect(f"{recording_gateway.ws_url}?tag={tag}", max_size=None) as ws:
            await ws.send(message)
            return await closed_with(ws)

    assert run(scenario()) == code
    connection_id = recording_gateway.connection_id(tag)
    [call] = recording_gateway.wait_for_route(connection_id, "$disconnect")
    assert call["event"]["requestContext"]["disconnectStatusCode"] == code
    assert recording_gateway.calls(connection_id, "$default") == []  # nothing was delivered


def test_100_kb_in_25_kb_fragments_passes(recording_gateway: Gateway) -> None:
    async def scenario() -> str:
        async with connect(recording_gateway.ws_url) as ws:
            await ws.send(["a" * 25_600] * 4)
            return str(await ws.recv())

    assert run(scenario()) == "got 102400 on $default"


def test_an_abrupt_loss_fires_disconnect_once_with_1006(recording_gateway: Gateway) -> None:
    async def scenario() -> None:
        client = await FrameClient.connect(f"{recording_gateway.ws_url}?tag=lost")
        client.send_text(b"id")
        await client.recv_frame()
        client.abort()  # TCP reset, no close frame

    run(scenario())
    connection_id = recording_gateway.connection_id("lost")
    [call] = recording_gateway.wait_for_route(connection_id, "$disconnect")
    assert call["event"]["requestContext"]["disconnectStatusCode"] == 1006
    run(asyncio.sleep(0.5))  # room for a duplicate to show up, were there one
    assert len(recording_gateway.calls(connection_id, "$disconnect")) == 1


@pytest.mark.parametrize(
    ("query", "status"), [("status=401", 401), ("status=403", 403), ("raise=1", 500)]
)
def test_connect_handler_can_refuse(recording_gateway: Gateway, query: str, status: int) -> None:
    async def scenario() -> int:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"{recording_gateway.ws_url}?tag=refused-{status}&{query}"):
                pass
        return refused.value.response.status_code

    assert run(scenario()) == status
    connection_id = recording_gateway.connection_id(f"refused-{status}")
    run(asyncio.sleep(0.3))
    assert recording_gateway.calls(connection_id, "$disconnect") == []  # never established


def test_a_failing_handler_answers_internal_server_error(recording_gateway: Gateway) -> None:
    async def scenario() -> tuple[dict[str, str], str]:
        async with connect(recording_gateway.ws_url) as ws:
            await ws.send("raise")
            error = json.loads(await ws.recv())
            await ws.send("still here")
            return error, str(await ws.recv())

    error, after = run(scenario())
    assert error["message"] == "Internal server error"
    assert set(error) == {"message", "connectionId", "requestId"}
    assert after == "got 10 on $default"  # the connection survived


def test_one_connections_messages_are_handled_in_order(recording_gateway: Gateway) -> None:
    async def scenario() -> list[str]:
        async with connect(recording_gateway.ws_url) as ws:
            for message in ("sleep:0.3", "b", "cc"):
                await ws.send(message)
            return [str(await ws.recv()) for _ in range(3)]

    assert run(scenario()) == ["sleep:0.3", "got 1 on $default", "got 2 on $default"]


@pytest.fixture(scope="module")
def short_lived_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gateway = start_gateway_with(
        tmp_path_factory,
        *("--idle-timeout", "1", "--max-duration", "3", "--integration-timeout", "0.3"),
    )
    yield gateway
    gateway.stop()


def start_gateway_with(factory: pytest.TempPathFactory, *args: str) -> Gateway:
    return start_gateway(factory.mktemp("gateway"), *args)


def test_a_slow_handler_times_out_but_runs_on(short_lived_gateway: Gateway) -> None:
    async def scenario() -> list[str]:
        async with connect(short_lived_gateway.ws_url) as ws:
            await ws.send("sleep:0.6")  # twice the integration timeout
            return [str(await ws.recv()) for _ in range(2)]

    first, second = run(scenario())
    assert json.loads(first)["message"] == "Endpoint request timed out"
    assert second == "sleep:0.6"  # the function itself finished and posted, as on AWS


def test_idle_connections_are_closed(short_lived_gateway: Gateway) -> None:
    async def scenario() -> int:
        async with connect(f"{short_lived_gateway.ws_url}?tag=idle") as ws:
            return await closed_with(ws)

    assert run(scenario()) == 1001
    connection_id = short_lived_gateway.connection_id("idle")
    [call] = short_lived_gateway.wait_for_route(connection_id, "$disconnect")
    assert call["event"]["requestContext"]["disconnectStatusCode"] == 1001


def test_busy_connections_still_end_at_the_maximum_duration(short_lived_gateway: Gateway) -> None:
    async def scenario() -> int:
        async with connect(short_lived_gateway.ws_url) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                while True:  # busier than the 1 s idle timeout allows
                    await ws.send("ping")
                    await ws.recv()
                    await asyncio.sleep(0.2)
            assert closed.value.rcvd is not None
            return closed.value.rcvd.code

    assert run(scenario()) == 1001


def test_shutdown_closes_every_socket_with_1001(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    gateway = start_gateway_with(tmp_path_factory)

    async def scenario() -> list[int]:
        clients = [await connect(f"{gateway.ws_url}?tag=c{i}") for i in range(3)]
        for client in clients:
            await client.send("id")
            await client.recv()
        await asyncio.to_thread(gateway.stop)
        return [await closed_with(client) for client in clients]

    assert run(scenario()) == [1001, 1001, 1001]
    assert gateway.process.returncode == 0
    for i in range(3):
        [call] = gateway.calls(gateway.connection_id(f"c{i}"), "$disconnect")
        assert call["event"]["requestContext"]["disconnectStatusCode"] == 1001
