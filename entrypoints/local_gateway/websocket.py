"""One client's WebSocket session: handshake with $connect, frames and limits, $disconnect."""

from __future__ import annotations

import asyncio
import dataclasses
import http
import logging
import time
from urllib.parse import urlsplit

from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response
from websockets.server import ServerProtocol

from entrypoints.local_gateway.connections import LiveConnection
from entrypoints.local_gateway.dispatch import Dispatcher
from entrypoints.local_gateway.events import ConnectionFacts, connect_event, now_ms
from entrypoints.local_gateway.ids import gateway_id
from entrypoints.local_gateway.runtime import Runtime
from entrypoints.local_gateway.wire import Wire, new_protocol

log = logging.getLogger("switchboard.gateway")
READ_SIZE = 64 * 1024


async def serve_websocket(
    runtime: Runtime, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes
) -> None:
    """Run one upgrade request (`head`: its bytes and any that followed) to its end."""
    protocol = new_protocol()
    wire = Wire(protocol, writer)
    protocol.receive_data(head)
    request = next((e for e in protocol.events_received() if isinstance(e, Request)), None)
    if request is None:  # the library could not read a handshake; it has queued its answer
        wire.flush()
        return
    response = protocol.accept(request)
    if response.status_code == 101 and runtime.closing:
        response = protocol.reject(http.HTTPStatus.SERVICE_UNAVAILABLE, "Shutting down.\n")
    if response.status_code != 101:
        protocol.send_response(response)
        wire.flush()
        return
    facts = _facts(request, writer)
    url = urlsplit(request.path)
    server_port = str(writer.get_extra_info("sockname")[1])
    started = time.perf_counter()
    event = connect_event(runtime.stage, facts, request.headers.raw_items(), url.query, server_port)
    status = (await runtime.invoker.invoke(event)).status()
    elapsed_ms = (time.perf_counter() - started) * 1000
    if runtime.closing:
        status = 503
    if not 200 <= status < 300:
        # The handshake waited for $connect; its non-2xx answer becomes the HTTP status.
        status = status if 300 <= status < 600 else 502
        protocol.send_response(_rejection(protocol, status))
        wire.flush()
        log.info("connect rejected connection=%s status=%d", facts.connection_id, status)
        return
    protocol.send_response(response)
    wire.flush()
    connection = LiveConnection(facts, wire, facts.connected_at_ms)
    runtime.registry.add(connection)
    log.info(
        "connect connection=%s source=%s duration_ms=%.1f",
        facts.connection_id,
        facts.source_ip,
        elapsed_ms,
    )
    await _session(runtime, reader, connection)


async def _session(
    runtime: Runtime, reader: asyncio.StreamReader, connection: LiveConnection
) -> None:
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


def _facts(request: Request, writer: asyncio.StreamWriter) -> ConnectionFacts:
    peer = writer.get_extra_info("peername") or ("127.0.0.1", 0)
    return ConnectionFacts(
        connection_id=gateway_id(),
        connected_at_ms=now_ms(),
        source_ip=str(peer[0]),
        user_agent=request.headers.get("User-Agent"),
        domain_name=request.headers.get("Host", "localhost"),
    )


def _rejection(protocol: ServerProtocol, status: int) -> Response:
    try:
        return protocol.reject(status, f"{http.HTTPStatus(status).phrase}\n")
    except ValueError:  # a status the standard library has no name for, e.g. 499
        response = protocol.reject(http.HTTPStatus.BAD_GATEWAY, "Rejected\n")
        return dataclasses.replace(response, status_code=status, reason_phrase="Rejected")
