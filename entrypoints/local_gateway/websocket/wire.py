"""One WebSocket's wire: the `websockets` Sans-I/O protocol bound to an asyncio stream."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from websockets.frames import CloseCode
from websockets.protocol import State
from websockets.server import ServerProtocol
from websockets.typing import Origin

from domain.limits import MAX_FRAME_BYTES, MAX_PAYLOAD_BYTES

log = logging.getLogger("local_gateway")

# How long a closing handshake may take before the TCP connection is dropped.
CLOSE_TIMEOUT_SECONDS = 5.0
# What $disconnect reports for the close codes a client sends without a reason. Only the
# 1005 and 1000 texts are confirmed from AWS's events; the others follow RFC 6455's names.
CLOSE_REASONS = {
    1000: "Connection Closed Normally",
    1001: "Going away",
    1005: "Client-side close frame status not set",
    1006: "Connection closed abnormally",
}


def new_protocol(origins: Iterable[str] = ()) -> ServerProtocol:
    """A server side that accepts requests without Origin, or with one of `origins` (any
    other gets 403 from `accept`). No extensions: API Gateway does not negotiate
    permessage-deflate."""
    accepted: list[Origin | None] = [None, *(Origin(origin) for origin in origins)]
    return ServerProtocol(origins=accepted, max_size=(MAX_PAYLOAD_BYTES, MAX_FRAME_BYTES))


class Wire:
    """Writes what the protocol produces and remembers who closed the connection, and why."""

    def __init__(self, protocol: ServerProtocol, writer: asyncio.StreamWriter) -> None:
        self.protocol = protocol
        self._writer = writer
        self._closed_by_us: tuple[int, str] | None = None
        self._abort_timer: asyncio.TimerHandle | None = None

    @property
    def is_open(self) -> bool:
        return self.protocol.state is State.OPEN

    def flush(self) -> None:
        for data in self.protocol.data_to_send():
            if data:
                self._writer.write(data)
            elif self._writer.can_write_eof():  # b"" means: half-close our side
                self._writer.write_eof()
        if self.protocol.close_expected() and self._abort_timer is None:
            loop = asyncio.get_running_loop()
            self._abort_timer = loop.call_later(CLOSE_TIMEOUT_SECONDS, self.abort)

    def send_message(self, data: bytes) -> None:
        """One message; past 32 KB it goes out as 32 KB frames, as API Gateway sends it."""
        # The @connections API takes raw bytes: valid UTF-8 goes out as text, anything else
        # as binary, so a client's UTF-8 check cannot kill the connection (unconfirmed).
        if _is_utf8(data):
            first, rest = self.protocol.send_text, self.protocol.send_continuation
        else:
            first, rest = self.protocol.send_binary, self.protocol.send_continuation
        chunks = [data[i : i + MAX_FRAME_BYTES] for i in range(0, len(data), MAX_FRAME_BYTES)]
        if len(chunks) <= 1:
            first(data)
        else:
            first(chunks[0], fin=False)
            for chunk in chunks[1:-1]:
                rest(chunk, fin=False)
            rest(chunks[-1], fin=True)
        self.flush()

    def close(self, code: int, reason: str = "", disconnect_reason: str | None = None) -> None:
        """Start the closing handshake (the client echoes, then TCP closes)."""
        if not self.is_open:
            return
        self._closed_by_us = (code, disconnect_reason or reason or CLOSE_REASONS.get(code, ""))
        self.protocol.send_close(code, reason)
        self.flush()

    def fail(self, code: int, reason: str) -> None:
        """Send a close frame and drop the connection at once, as for a policy violation."""
        if self.is_open:
            self._closed_by_us = (code, reason)
        self.protocol.fail(code, reason)
        self.flush()

    def abort(self) -> None:
        self._writer.transport.abort()

    def buffered_bytes(self) -> int:
        return self._writer.transport.get_write_buffer_size()

    def disconnect_status(self) -> tuple[int, str]:
        """The `disconnectStatusCode` and `disconnectReason` for $disconnect."""
        if self._abort_timer is not None:
            self._abort_timer.cancel()
        if self._closed_by_us is not None:
            return self._closed_by_us
        sent, received = self.protocol.close_sent, self.protocol.close_rcvd
        if sent is not None and (received is None or not self.protocol.close_rcvd_then_sent):
            # The library closed first (a frame or message over the limit, a protocol error).
            return sent.code, sent.reason or CLOSE_REASONS.get(sent.code, "")
        if received is not None:
            code = int(received.code)
            return code, received.reason or CLOSE_REASONS.get(code, "")
        code = int(CloseCode.ABNORMAL_CLOSURE)
        return code, CLOSE_REASONS[code]


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
