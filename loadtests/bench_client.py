"""The benchmarks' WebSocket client: websockets' Sans-I/O protocol on a bare asyncio Protocol.

`websockets`' asyncio client runs a task and a future per message; with thousands of clients
in one process that cost, not the server's, would set the pace of a broadcast. Here the
library still does the handshake and the framing, but each arrival is handled in the socket's
data_received callback, with its time taken before anything else. Text frames only, each
one a whole message (what both servers send for the benchmarks' short messages).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

# (frame payload, arrival time from time.monotonic_ns())
OnText = Callable[[bytes, int], None]


class BenchClient(asyncio.Protocol):
    def __init__(self, url: str, on_text: OnText, on_lost: Callable[[str], None]) -> None:
        self._ws = ClientProtocol(parse_uri(url))  # no extensions: no permessage-deflate
        self._on_text = on_text
        self._on_lost = on_lost
        self._transport: asyncio.Transport | None = None
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._ws.send_request(self._ws.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        arrived = time.monotonic_ns()
        self._ws.receive_data(data)
        for event in self._ws.events_received():
            if isinstance(event, Frame):
                if event.opcode is Opcode.TEXT:
                    self._on_text(bytes(event.data), arrived)
            elif isinstance(event, Response) and not self.opened.done():
                if self._ws.handshake_exc is not None:
                    self.opened.set_exception(self._ws.handshake_exc)
                else:
                    self.opened.set_result(None)
        self._flush()  # pongs and the closing handshake, which the protocol queued

    def connection_lost(self, exc: Exception | None) -> None:
        why = f"{type(exc).__name__}: {exc}" if exc else "closed by the server"
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(f"before the handshake ended: {why}"))
        else:
            self._on_lost(f"after connect: {why} (close code {self._ws.close_code})")

    def _flush(self) -> None:
        assert self._transport is not None
        for data in self._ws.data_to_send():
            if data:
                self._transport.write(data)
            elif self._transport.can_write_eof():
                self._transport.write_eof()


async def open_client(
    url: str, on_text: OnText, on_lost: Callable[[str], None], timeout: float
) -> asyncio.Transport:
    """Connect and finish the opening handshake within `timeout` seconds, or raise."""
    uri = parse_uri(url)
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(timeout):
        transport, client = await loop.create_connection(
            lambda: BenchClient(url, on_text, on_lost), uri.host, uri.port
        )
        try:
            await client.opened
        except BaseException:
            transport.abort()
            raise
    return transport
