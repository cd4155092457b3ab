"""HTTP/1.1 on h11, with keep-alive; an upgrade to the stage's path is handed to WebSockets.

Long: the fast upgrade path and h11's keep-alive loop share one read, so they stay together.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import h11

from entrypoints.local_gateway.web.http_router import HttpRequest, HttpResponse, Router

log = logging.getLogger("local_gateway")
READ_SIZE = 64 * 1024
MAX_BODY_BYTES = 8 * 1024 * 1024  # past this a body is not even read: the connection closes
KEEP_ALIVE_SECONDS = 120.0

# Called with the upgrade request's bytes (as they came, or its head re-serialized by h11),
# and what followed them.
UpgradeHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, bytes], Awaitable[None]]


async def serve_http(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    router: Router,
    websocket_path: str,
    on_upgrade: UpgradeHandler,
) -> None:
    """Serve requests on one TCP connection until it closes or becomes a WebSocket."""
    first = await _read(reader)
    if not first:
        return
    if _opens_the_stage(first, websocket_path):
        # A WebSocket client's first bytes: websockets parses (and checks) the handshake;
        # parsing it with h11 first cost as much as the rest of the hand-off.
        await on_upgrade(reader, writer, first)
        return
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(first)
    while True:
        try:
            event = await _next_event(conn, reader)
        except h11.RemoteProtocolError as exc:
            await _refuse(conn, writer, exc)
            return
        if isinstance(event, h11.ConnectionClosed) or event is None:
            return
        assert isinstance(event, h11.Request)
        target = urlsplit(event.target.decode("latin-1"))
        upgrade = _is_upgrade(event)
        if upgrade and target.path.rstrip("/") == websocket_path:
            await on_upgrade(reader, writer, _upgrade_bytes(conn, event))
            return
        body = await _read_body(conn, reader)
        request = HttpRequest(
            method=event.method.decode("ascii"),
            path=target.path,
            query=target.query,
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in event.headers],
            body=body or b"",
        )
        if body is None:
            too_large = [("x-amzn-ErrorType", "PayloadTooLargeException")]
            response = HttpResponse.json(413, {"message": "Request body too large"}, too_large)
        elif upgrade:
            message = f"No WebSocket endpoint at {target.path}: the stage is at {websocket_path}"
            response = HttpResponse.json(404, {"message": message})
        else:
            response = await _answer(router, request)
        await _send(conn, writer, response, close=body is None)
        if conn.our_state is h11.MUST_CLOSE or body is None:
            return
        conn.start_next_cycle()


async def _next_event(conn: h11.Connection, reader: asyncio.StreamReader) -> Any:
    while True:
        event = conn.next_event()
        if event is not h11.NEED_DATA:
            return event
        data = await _read(reader)
        if data is None:
            return None
        conn.receive_data(data)


async def _read(reader: asyncio.StreamReader) -> bytes | None:
    """What came next (b"" at the end of the stream); None once the connection has been idle
    for KEEP_ALIVE_SECONDS or failed."""
    try:
        async with asyncio.timeout(KEEP_ALIVE_SECONDS):
            return await reader.read(READ_SIZE)
    except (TimeoutError, ConnectionError):
        return None


async def _read_body(conn: h11.Connection, reader: asyncio.StreamReader) -> bytes | None:
    """The whole body, or None when it is larger than MAX_BODY_BYTES."""
    parts: list[bytes] = []
    size = 0
    while True:
        event = await _next_event(conn, reader)
        if isinstance(event, h11.Data):
            size += len(event.data)
            if size > MAX_BODY_BYTES:
                return None
            parts.append(bytes(event.data))
        elif isinstance(event, h11.EndOfMessage):
            return b"".join(parts)
        else:
            raise h11.RemoteProtocolError("the request ended before its body")


def _opens_the_stage(data: bytes, websocket_path: str) -> bool:
    """Whether `data` holds a whole request head that asks for a WebSocket at the stage: only
    a routing decision; anything else (a partial head, another path) goes through h11."""
    head, complete, _ = data.partition(b"\r\n\r\n")
    if not complete:
        return False
    line, _, headers = head.partition(b"\r\n")
    parts = line.split(b" ")
    if len(parts) != 3 or parts[0] != b"GET" or parts[2] != b"HTTP/1.1":
        return False
    path = urlsplit(parts[1].decode("latin-1")).path
    return path.rstrip("/") == websocket_path and bool(_UPGRADE.search(b"\r\n" + headers))


_UPGRADE = re.compile(rb"\r\nupgrade:[ \t]*websocket[ \t]*(?:\r\n|$)", re.IGNORECASE)


def _is_upgrade(event: h11.Request) -> bool:
    # raw_items(): a list at once (iterating h11's Headers goes item by item through the
    # Sequence ABC, a measurable share of a handshake's CPU).
    upgrade = [v.lower() for k, v in event.headers.raw_items() if k.lower() == b"upgrade"]
    return event.method == b"GET" and b"websocket" in upgrade and event.http_version == b"1.1"


def _upgrade_bytes(conn: h11.Connection, event: h11.Request) -> bytes:
    # An upgrade h11 parsed (its head came in pieces, or after other requests on a keep-alive
    # connection; rare): serializing it again with h11's client role hands the websockets
    # protocol the same request (names in their original case) without writing HTTP here.
    # trailing_data holds what the client sent after the head (a GET has no body).
    request = h11.Request(
        method=event.method, target=event.target, headers=list(event.headers.raw_items())
    )
    return (h11.Connection(h11.CLIENT).send(request) or b"") + conn.trailing_data[0]


async def _answer(router: Router, request: HttpRequest) -> HttpResponse:
    try:
        return await router.dispatch(request)
    except Exception:
        log.exception("error answering %s %s", request.method, request.path)
        return HttpResponse.json(500, {"message": "Internal server error"})


async def _send(
    conn: h11.Connection, writer: asyncio.StreamWriter, response: HttpResponse, close: bool
) -> None:
    headers = [*response.headers, ("Content-Length", str(len(response.body)))]
    if close:
        headers.append(("Connection", "close"))
    writer.write(conn.send(h11.Response(status_code=response.status, headers=headers)) or b"")
    if response.body:
        writer.write(conn.send(h11.Data(data=response.body)) or b"")
    writer.write(conn.send(h11.EndOfMessage()) or b"")
    await writer.drain()


async def _refuse(conn: h11.Connection, writer: asyncio.StreamWriter, exc: Exception) -> None:
    if conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
        return
    status = getattr(exc, "error_status_hint", 400)
    await _send(conn, writer, HttpResponse.json(status, {"message": str(exc)}), close=True)
