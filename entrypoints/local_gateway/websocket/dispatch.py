"""One connection's invocations: its messages in arrival order, then $disconnect once."""

from __future__ import annotations

import asyncio
import json
import logging

from entrypoints.local_gateway.lambda_runtime.events import disconnect_event, message_event
from entrypoints.local_gateway.websocket.connections import LiveConnection
from entrypoints.local_gateway.websocket.runtime import Runtime

log = logging.getLogger("local_gateway")
# Messages read but not yet handled; past this the socket is not read (TCP pushes back).
MAX_PENDING_MESSAGES = 64


class Dispatcher:
    """Invokes one connection's routes one after another.

    AWS documents no ordering between the invocations of one connection's messages; running
    them in order is the behaviour clients expect and one AWS may show, so the local gateway
    keeps it. Different connections still run in parallel on the worker pool.
    """

    def __init__(self, runtime: Runtime, connection: LiveConnection) -> None:
        self._runtime = runtime
        self._connection = connection
        self._queue: asyncio.Queue[str | tuple[int, str]] = asyncio.Queue(MAX_PENDING_MESSAGES)
        self._task = asyncio.create_task(self._run(), name=f"dispatch {connection.connection_id}")

    async def message(self, body: str) -> None:
        await self._queue.put(body)

    async def disconnect(self, status_code: int, reason: str) -> None:
        """Queue $disconnect after the messages already read, and wait until it has run."""
        await self._queue.put((status_code, reason))
        await self._task

    async def _run(self) -> None:
        runtime, facts = self._runtime, self._connection.facts
        while True:
            item = await self._queue.get()
            try:
                if isinstance(item, tuple):
                    if runtime.disconnect_drops.drop():
                        log.warning(
                            "dropped $disconnect connection=%s (--drop-disconnect-rate %s)",
                            facts.connection_id,
                            runtime.disconnect_drops.rate,
                        )
                        return
                    if runtime.integrates("$disconnect"):
                        event = disconnect_event(runtime.stage, facts, *item)
                        await runtime.invoker.invoke(event)
                    return
                await self._invoke(item)
            except Exception:
                # The handler's own errors are caught by the invoker; this is the gateway's.
                log.exception("gateway error on connection %s", facts.connection_id)
                if isinstance(item, tuple):
                    return

    async def _invoke(self, body: str) -> None:
        runtime = self._runtime
        route_key = runtime.selector.select(body)
        event = message_event(runtime.stage, self._connection.facts, route_key, body)
        if not runtime.integrates(route_key):  # no such route, and no $default either
            self._report("Forbidden", event["requestContext"])
            return
        outcome = await runtime.invoker.invoke(event)
        if outcome.failed or outcome.timed_out:
            message = "Endpoint request timed out" if outcome.timed_out else "Internal server error"
            self._report(message, event["requestContext"])
        elif route_key in runtime.two_way:
            self._answer(outcome.result)

    def _answer(self, result: object) -> None:
        # A route response sends the integration's body back: a proxy result's `body`.
        body = result.get("body") if isinstance(result, dict) else None
        if body is not None and self._connection.wire.is_open:
            text = body if isinstance(body, str) else json.dumps(body)
            self._connection.send(text.encode())

    def _report(self, message: str, request: dict[str, str]) -> None:
        # What API Gateway sends the client when the integration fails or times out.
        if not self._connection.wire.is_open:
            return
        frame = {
            "message": message,
            "connectionId": request["connectionId"],
            "requestId": request["requestId"],
        }
        self._connection.send(json.dumps(frame).encode())
