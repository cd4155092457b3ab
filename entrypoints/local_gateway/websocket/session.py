"""An established connection's life: frames in, limits enforced, timers, $disconnect once."""

from __future__ import annotations

import asyncio
import logging

from websockets.frames import Frame, Opcode

from entrypoints.local_gateway.lambda_runtime.events import now_ms
from entrypoints.local_gateway.websocket.connections import LiveConnection
from entrypoints.local_gateway.websocket.dispatch import Dispatcher
from entrypoints.local_gateway.websocket.runtime import Runtime

log = logging.getLogger("local_gateway")
READ_SIZE = 64 * 1024


async def run_session(
    runtime: Runtime, reader: asyncio.StreamReader, connection: LiveConnection
) -> None:
    """Read frames until the connection ends, however it ends; then run $disconnect once."""
    wire, loop = connection.wire, asyncio.get_running_loop()
    dispatcher = Dispatcher(runtime, connection)
    timers: list[asyncio.TimerHandle | IdleTimer] = [
        loop.call_later(runtime.max_duration, wire.close, 1001, "Going away"),
        IdleTimer(runtime.idle_timeout, connection),
    ]
    try:
        await _read_frames(reader, connection, dispatcher)
    except Exception:
        log.exception("error on connection %s", connection.connection_id)
        wire.abort()
    finally:
        for timer in timers:
            timer.cancel()
        runtime.registry.remove(connection.connection_id)
        code, reason = wire.disconnect_status()
        log.info(
            "disconnect connection=%s code=%d reason=%r", connection.connection_id, code, reason
        )
        # $disconnect runs once per established connection, after its pending messages.
        await dispatcher.disconnect(code, reason)


async def _read_frames(
    reader: asyncio.StreamReader, connection: LiveConnection, dispatcher: Dispatcher
) -> None:
    wire = connection.wire
    protocol = wire.protocol
    fragments: list[bytes] = []
    while True:
        try:
            data = await reader.read(READ_SIZE)
        except ConnectionError:
            data = b""
        if data:
            protocol.receive_data(data)
        else:
            protocol.receive_eof()
        for event in protocol.events_received():
            if not isinstance(event, Frame) or event.opcode not in _DATA_OPCODES:
                continue  # ping, pong and close are answered by the protocol itself
            if event.opcode is Opcode.BINARY:
                wire.fail(1003, "Binary frames are not supported")  # API Gateway's behaviour
                break
            fragments.append(bytes(event.data))
            if not event.fin:
                continue
            payload, fragments = b"".join(fragments), []
            try:
                text = payload.decode("utf-8")
            except UnicodeDecodeError:
                wire.fail(1007, "Invalid UTF-8 in text message")
                break
            connection.touch()
            await dispatcher.message(text)
        wire.flush()
        if not data:
            return


_DATA_OPCODES = frozenset((Opcode.TEXT, Opcode.CONT, Opcode.BINARY))


class IdleTimer:
    """Closes the connection once it has been idle for `timeout` seconds."""

    def __init__(self, timeout: float, connection: LiveConnection) -> None:
        self._timeout = timeout
        self._connection = connection
        self._handle = asyncio.get_running_loop().call_later(timeout, self._check)

    def _check(self) -> None:
        idle_for = (now_ms() - self._connection.last_active_ms) / 1000
        if idle_for >= self._timeout:
            self._connection.wire.close(1001, "Going away")
        else:  # activity since: look again when the quiet period would end
            loop = asyncio.get_running_loop()
            self._handle = loop.call_later(self._timeout - idle_for, self._check)

    def cancel(self) -> None:
        self._handle.cancel()
