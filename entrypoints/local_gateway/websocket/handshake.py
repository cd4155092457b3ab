"""The opening handshake: the upgrade waits for $connect, whose answer accepts or rejects it."""

from __future__ import annotations

import asyncio
import dataclasses
import http
import logging
import time
from urllib.parse import urlsplit

from websockets.exceptions import InvalidOrigin
from websockets.http11 import Request, Response
from websockets.server import ServerProtocol

from entrypoints.local_gateway.lambda_runtime.events import ConnectionFacts, connect_event, now_ms
from entrypoints.local_gateway.lambda_runtime.ids import gateway_id
from entrypoints.local_gateway.lambda_runtime.invoker import Invocation
from entrypoints.local_gateway.websocket.connections import LiveConnection
from entrypoints.local_gateway.websocket.runtime import Runtime
from entrypoints.local_gateway.websocket.session import run_session
from entrypoints.local_gateway.websocket.wire import Wire, new_protocol

log = logging.getLogger("local_gateway")


async def serve_websocket(
    runtime: Runtime, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes
) -> None:
    """Run one upgrade request (`head`: its bytes and any that followed) to its end."""
    protocol = new_protocol(runtime.allowed_origins)
    wire = Wire(protocol, writer)
    protocol.receive_data(head)
    request = next((e for e in protocol.events_received() if isinstance(e, Request)), None)
    if request is None:  # the library could not read a handshake; it has queued its answer
        wire.flush()
        return
    response = protocol.accept(request)  # checks Origin: before the authorizer and $connect
    if isinstance(protocol.handshake_exc, InvalidOrigin):
        response = _foreign_origin(protocol, request)
    if response.status_code == 101 and runtime.closing:
        response = protocol.reject(http.HTTPStatus.SERVICE_UNAVAILABLE, "Shutting down.\n")
    if response.status_code != 101:
        protocol.send_response(response)
        wire.flush()
        return
    facts = _facts(request, writer, runtime.domain_name)
    url = urlsplit(request.path)
    server_port = str(writer.get_extra_info("sockname")[1])
    started = time.perf_counter()
    event = connect_event(runtime.stage, facts, request.headers.raw_items(), url.query, server_port)
    if runtime.authorizer is not None:
        verdict = await runtime.authorizer.authorize(event, request.headers.raw_items())
        status = verdict.status
        if status != 200:
            protocol.send_response(_rejection(protocol, status))
            wire.flush()
            log.info("authorizer refused connection=%s status=%d", facts.connection_id, status)
            return
        # The authorizer's context travels with the connection, into every later event.
        facts = dataclasses.replace(facts, authorizer=verdict.context)
        event["requestContext"]["authorizer"] = dict(verdict.context or {})
    if runtime.integrates("$connect"):
        outcome = await runtime.invoker.invoke(event)
    else:  # no $connect integration: API Gateway lets the connection in
        outcome = Invocation(result={"statusCode": 200})
    status = outcome.status()
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
    subprotocol = _chosen_subprotocol(outcome.result)
    if subprotocol:  # as on AWS, $connect picks the subprotocol through its response headers
        response.headers["Sec-WebSocket-Protocol"] = subprotocol
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
    await run_session(runtime, reader, connection)


def _facts(
    request: Request, writer: asyncio.StreamWriter, domain_name: str | None
) -> ConnectionFacts:
    peer = writer.get_extra_info("peername") or ("127.0.0.1", 0)
    return ConnectionFacts(
        connection_id=gateway_id(),
        connected_at_ms=now_ms(),
        source_ip=str(peer[0]),
        user_agent=request.headers.get("User-Agent"),
        domain_name=domain_name or request.headers.get("Host", "localhost"),
    )


def _foreign_origin(protocol: ServerProtocol, request: Request) -> Response:
    # A page on another site must not drive a developer's gateway (AWS checks no Origin;
    # a browser always sends one, CLI tools and SDKs send none).
    origin = request.headers.get("Origin")
    log.warning("refused a WebSocket from origin %s (serve --allow-origin lets it in)", origin)
    text = f"Origin {origin} may not open WebSockets here: serve --allow-origin {origin}\n"
    return protocol.reject(http.HTTPStatus.FORBIDDEN, text)


def _chosen_subprotocol(result: object) -> str | None:
    headers = result.get("headers") if isinstance(result, dict) else None
    if not isinstance(headers, dict):
        return None
    value = next((v for k, v in headers.items() if k.lower() == "sec-websocket-protocol"), None)
    return str(value) if value else None


def _rejection(protocol: ServerProtocol, status: int) -> Response:
    try:
        return protocol.reject(status, f"{http.HTTPStatus(status).phrase}\n")
    except ValueError:  # a status the standard library has no name for, e.g. 499
        response = protocol.reject(http.HTTPStatus.BAD_GATEWAY, "Rejected\n")
        return dataclasses.replace(response, status_code=status, reason_phrase="Rejected")
