"""Which first bytes go straight to the WebSocket handshake and which go through h11."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from websockets.http11 import Request
from websockets.server import ServerProtocol

from entrypoints.local_gateway.web.http_router import HttpRequest, HttpResponse, Router
from entrypoints.local_gateway.web.http_serving import _opens_the_stage, serve_http

HEAD = b"Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"GET /dev HTTP/1.1\r\n" + HEAD, True),
        (b"GET /dev/?token=abc HTTP/1.1\r\n" + HEAD, True),
        (b"GET /dev HTTP/1.1\r\nhost: x\r\nUPGRADE:WebSocket\r\n\r\n", True),
        (b"GET /dev HTTP/1.1\r\n" + HEAD + b"\x81\x05hello", True),  # a frame right behind
        (b"GET /other HTTP/1.1\r\n" + HEAD, False),  # another path: h11 answers 404
        (b"POST /dev HTTP/1.1\r\n" + HEAD, False),
        (b"GET /dev HTTP/1.0\r\n" + HEAD, False),
        (b"GET /dev HTTP/1.1\r\nHost: x\r\n\r\n", False),  # no upgrade: plain HTTP
        (b"GET /dev HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n", False),  # head not whole
        (b"GET /dev HTTP/1.1\r\nX-Upgrade: websocket\r\n\r\n", False),
    ],
)
def test_only_a_whole_upgrade_head_for_the_stage_skips_h11(data: bytes, expected: bool) -> None:
    assert _opens_the_stage(data, "/dev") is expected


async def _upgrade_after(*chunks: bytes) -> Request:
    """Send `chunks` to serve_http on loopback, each with its own write; return the request the
    WebSocket side gets."""
    got: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    async def on_upgrade(reader: Any, writer: asyncio.StreamWriter, head: bytes) -> None:
        got.set_result(head)
        writer.close()

    async def index(request: HttpRequest) -> HttpResponse:
        return HttpResponse.text(200, "index\n")

    router = Router()
    router.add(["GET"], "/", index)
    server = await asyncio.start_server(
        lambda r, w: serve_http(r, w, router, "/dev", on_upgrade), "127.0.0.1", 0
    )
    async with server:
        _, writer = await asyncio.open_connection(*server.sockets[0].getsockname()[:2])
        for chunk in chunks:
            writer.write(chunk)
            await writer.drain()
            await asyncio.sleep(0.05)  # a separate read on the server's side
        head = await asyncio.wait_for(got, 5)
        writer.close()
    protocol = ServerProtocol()
    protocol.receive_data(head)
    [request] = protocol.events_received()
    assert isinstance(request, Request)
    return request


UPGRADE = b"GET /dev?token=t HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
REST = b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
REST += b"Sec-WebSocket-Version: 13\r\n\r\n"


def test_an_upgrade_whose_head_came_in_pieces_reaches_the_websocket_side_whole() -> None:
    request = asyncio.run(_upgrade_after(UPGRADE, REST))
    assert request.path == "/dev?token=t"
    assert request.headers["Sec-WebSocket-Key"] == "dGhlIHNhbXBsZSBub25jZQ=="


def test_an_upgrade_after_a_keep_alive_request_reaches_the_websocket_side_whole() -> None:
    plain = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    request = asyncio.run(_upgrade_after(plain, UPGRADE + REST))
    assert request.path == "/dev?token=t"
    assert request.headers["Upgrade"] == "websocket"
