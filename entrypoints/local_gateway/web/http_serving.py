"""HTTP/1.1 on h11, with keep-alive; an upgrade to the stage's path is handed to WebSockets.

Long: the fast upgrade path and h11's keep-alive loop share one read, so they stay together.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import h11

from entrypoints.local_gateway.web.http_body import (
    declared_length,
    linger,
    next_event,
    read,
    read_body,
)
from entrypoints.local_gateway.web.http_router import HttpRequest, HttpResponse, Router

log = logging.getLogger("local_gateway")

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
    first = await read(reader)
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
            event = await next_event(conn, reader)
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
        method = event.method.decode("ascii")
        # Past its route's cap a body is refused unread: at once from its Content-Length, or
        # as soon as a chunked one grows past the cap. The connection closes after the 413.
        limit = router.max_body_bytes(method, target.path)
        declared = declared_length(event)
        too_large = declared is not None and declared > limit
        body = None if too_large else await read_body(conn, reader, limit)
        if body is None:
            await _send(conn, writer, HttpResponse.too_large(limit, declared), close=True)
            await linger(reader, writer)
            return
        request = HttpRequest(
            method=method,
            path=target.path,
            query=target.query,
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in event.headers],
            body=body,
        )
        if upgrade:
            message = f"No WebSocket endpoint at {target.path}: the stage is at {websocket_path}"
            response = HttpResponse.json(404, {"message": message})
        else:
            response = await _answer(router, request)
        await _send(conn, writer, response, close=False)
        if conn.our_state is h11.MUST_CLOSE:
            return
        conn.start_next_cycle()


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
