"""A WebSocket client that shows single frames, and can drop its TCP connection abruptly."""

from __future__ import annotations

import asyncio

from websockets.client import ClientProtocol
from websockets.frames import Frame
from websockets.http11 import Response
from websockets.uri import parse_uri


class FrameClient:
    """The `websockets` Sans-I/O client over asyncio streams, one frame at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._protocol: ClientProtocol | None = None
        self._pending: list[Frame | Response] = []
        self.response: Response | None = None

    @classmethod
    async def connect(cls, url: str) -> FrameClient:
        uri = parse_uri(url)
        reader, writer = await asyncio.open_connection(uri.host, uri.port)
        client = cls(reader, writer)
        client._protocol = ClientProtocol(uri)
        client._protocol.send_request(client._protocol.connect())
        client._flush()
        event = await client._next_event()
        assert isinstance(event, Response), event
        client.response = event
        return client

    async def recv_frame(self) -> Frame:
        event = await self._next_event()
        assert isinstance(event, Frame), event
        return event

    def send_text(self, data: bytes, fin: bool = True) -> None:
        assert self._protocol is not None
        self._protocol.send_text(data, fin=fin)
        self._flush()

    def close(self, code: int | None = None, reason: str = "") -> None:
        """Send a close frame; without a code it is empty (the peer reads status 1005)."""
        assert self._protocol is not None
        self._protocol.send_close(code, reason)
        self._flush()

    def abort(self) -> None:
        """Drop the TCP connection without a close frame (a reset), as a lost client does."""
        self._writer.transport.abort()

    async def _next_event(self) -> Frame | Response:
        assert self._protocol is not None
        while not self._pending:
            data = await self._reader.read(65536)
            if not data:
                raise EOFError("the server closed the connection")
            self._protocol.receive_data(data)
            self._pending.extend(
                e for e in self._protocol.events_received() if isinstance(e, Frame | Response)
            )
            self._flush()
        return self._pending.pop(0)

    def _flush(self) -> None:
        assert self._protocol is not None
        for data in self._protocol.data_to_send():
            if data:
                self._writer.write(data)
