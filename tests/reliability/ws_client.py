"""A `websockets` client that keeps every frame it reads, and can sync with the gateway.

`sync()` sends `leave` for a room named by a fresh random token and waits for the answer,
which nothing else can produce. The local gateway runs one connection's messages in order, and
a post travels the same TCP stream as earlier posts, so once the answer is in: every earlier
message of this client has been handled, and every frame posted to it before has been read.
(A whoami would not do: a fuzzed frame may ask for one too, and its answer would pass for ours.)
"""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

SYNC_TIMEOUT = 60.0  # generous: a loaded CI machine, DynamoDB in moto


def _frame(value: dict[str, str]) -> str:
    return json.dumps(value, separators=(",", ":"))  # as the handler writes its answers


def _payload(text: str) -> str:
    if not text.startswith('{"type":"message"'):
        return text
    data = json.loads(text)["data"]
    return data if isinstance(data, str) else json.dumps(data)


class Client:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: list[str] = []
        self.connection_id = ""
        self._awaited: dict[str, asyncio.Future[str]] = {}
        self._identity: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, url: str, **options: Any) -> Client:
        """Connect, and learn the connection's id (a whoami, before anything else is sent)."""
        options = {"open_timeout": 60, "ping_interval": None, "close_timeout": 10, **options}
        client = cls(await connect(url, **options))
        await client.send({"action": "whoami"})
        async with asyncio.timeout(SYNC_TIMEOUT):
            client.connection_id = await client._identity
        return client

    async def sync(self) -> None:
        """Return once everything sent before was handled, and everything posted before, read."""
        room = f"sync.{secrets.token_hex(8)}"
        answer = self._awaited[_frame({"type": "left", "room": room})] = (
            asyncio.get_running_loop().create_future()
        )
        await self.send({"action": "leave", "room": room})
        async with asyncio.timeout(SYNC_TIMEOUT):
            await answer

    def payloads(self) -> list[str]:
        """What was sent, of each frame read: a message envelope's data (a string as it is,
        other JSON as JSON text), any other frame's text."""
        return [_payload(text) for text in self.frames]

    async def send(self, frame: str | dict[str, Any]) -> None:
        await self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def close(self) -> None:
        await self.ws.close()
        await self._reader

    async def abort(self) -> None:
        """Drop the TCP connection without a close frame, as a lost client does (1006)."""
        self.ws.transport.abort()
        await self._reader

    async def closed_code(self) -> int | None:
        """The close code the server sent, once the connection has ended."""
        async with asyncio.timeout(SYNC_TIMEOUT):
            await self._reader
        return self.ws.close_code

    async def _read(self) -> None:
        try:
            async for message in self.ws:
                text = message if isinstance(message, str) else message.decode("utf-8", "replace")
                awaited = self._awaited.pop(text, None)
                if awaited is not None:
                    awaited.set_result(text)
                elif not self._identity.done() and text.startswith('{"type":"whoami"'):
                    self._identity.set_result(json.loads(text)["connectionId"])
                else:
                    self.frames.append(text)
        except ConnectionClosed:
            pass
