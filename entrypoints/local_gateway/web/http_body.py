"""Reading from an h11 connection: request bodies within their route's cap, and idle timeouts."""

from __future__ import annotations

import asyncio
from typing import Any

import h11

READ_SIZE = 64 * 1024
KEEP_ALIVE_SECONDS = 120.0
# After a refused body the connection closes; what the client still sends is read and dropped
# for up to this long (and this many bytes) first: closing a socket with unread data resets
# the connection, and the client could lose the 413 before reading it.
LINGER_SECONDS = 5.0
LINGER_BYTES = 8 * 1024 * 1024


async def read(reader: asyncio.StreamReader) -> bytes | None:
    """What came next (b"" at the end of the stream); None once the connection has been idle
    for KEEP_ALIVE_SECONDS or failed."""
    try:
        async with asyncio.timeout(KEEP_ALIVE_SECONDS):
            return await reader.read(READ_SIZE)
    except (TimeoutError, ConnectionError):
        return None


async def next_event(conn: h11.Connection, reader: asyncio.StreamReader) -> Any:
    """h11's next event, reading as much as it needs; None when the connection went quiet."""
    while True:
        event = conn.next_event()
        if event is not h11.NEED_DATA:
            return event
        data = await read(reader)
        if data is None:
            return None
        conn.receive_data(data)


def declared_length(request: h11.Request) -> int | None:
    """The Content-Length h11 checked (digits, one value), or None (chunked, or no body)."""
    for name, value in request.headers.raw_items():
        if name.lower() == b"content-length":
            return int(value)
    return None


async def read_body(conn: h11.Connection, reader: asyncio.StreamReader, limit: int) -> bytes | None:
    """The whole body, or None as soon as it grows past `limit` bytes (the rest is not read)."""
    parts: list[bytes] = []
    size = 0
    while True:
        event = await next_event(conn, reader)
        if isinstance(event, h11.Data):
            size += len(event.data)
            if size > limit:
                return None
            parts.append(bytes(event.data))
        elif isinstance(event, h11.EndOfMessage):
            return b"".join(parts)
        else:
            raise h11.RemoteProtocolError("the request ended before its body")


async def linger(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Half-close, then drop what the client still sends until it closes (or for a moment)."""
    if writer.can_write_eof():
        writer.write_eof()
    dropped = 0
    try:
        async with asyncio.timeout(LINGER_SECONDS):
            while dropped <= LINGER_BYTES:
                data = await reader.read(READ_SIZE)
                if not data:
                    return
                dropped += len(data)
    except (TimeoutError, ConnectionError):
        return
