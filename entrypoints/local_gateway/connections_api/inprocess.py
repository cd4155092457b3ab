"""In-process @connections: the handler's posts to this gateway, written without HTTP.

The handler runs on a worker thread of this process, so its publisher can hand a whole batch
to the gateway's event loop in one hop (adapters/apigateway/local_endpoints.py, chosen by the
container) instead of one loopback HTTP request per post. Each post follows the POST handler's rules
(posting.py); the outcomes are what the HTTP API's answers map to. On by default;
`--no-inprocess` sends them over loopback HTTP, signed, as on AWS. Handlers that build their own
boto3 client post over HTTP either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator, Mapping, Sequence

from adapters.apigateway import local_endpoints
from adapters.apigateway.outcomes import outcome_of
from domain.model import PostOutcome
from entrypoints.local_gateway.connections_api.posting import delete_connection, post_to_connection
from entrypoints.local_gateway.websocket.runtime import Runtime

log = logging.getLogger("local_gateway")
# A batch is written in milliseconds; waiting longer means the loop is stuck or stopped.
DELIVERY_TIMEOUT_SECONDS = 29.0


class LocalDelivery:
    """A `Deliver` for local_endpoints: writes a batch on the gateway's loop, from any thread."""

    def __init__(self, runtime: Runtime, loop: asyncio.AbstractEventLoop) -> None:
        self._runtime = runtime
        self._loop = loop

    def __call__(self, payload: bytes, connection_ids: Sequence[str]) -> Mapping[str, PostOutcome]:
        if _running_loop() is self._loop:  # already on the loop: waiting on it would deadlock
            return self._write(payload, connection_ids)
        future = asyncio.run_coroutine_threadsafe(
            self._on_loop(payload, connection_ids), self._loop
        )
        try:
            return future.result(DELIVERY_TIMEOUT_SECONDS)
        except TimeoutError:
            future.cancel()  # not written yet: the retry must not write it twice
            raise

    def disconnect(self, connection_id: str) -> PostOutcome:
        if _running_loop() is self._loop:
            return self._close(connection_id)
        future = asyncio.run_coroutine_threadsafe(self._close_on_loop(connection_id), self._loop)
        return future.result(DELIVERY_TIMEOUT_SECONDS)

    async def _close_on_loop(self, connection_id: str) -> PostOutcome:
        return self._close(connection_id)

    def _close(self, connection_id: str) -> PostOutcome:
        refusal = delete_connection(self._runtime, connection_id)
        if refusal is not None:
            return outcome_of(refusal.status, refusal.error_type)
        log.info("@connections DELETE (in-process) connection=%s", connection_id)
        return PostOutcome.DELIVERED

    async def _on_loop(
        self, payload: bytes, connection_ids: Sequence[str]
    ) -> Mapping[str, PostOutcome]:
        return self._write(payload, connection_ids)

    def _write(self, payload: bytes, connection_ids: Sequence[str]) -> dict[str, PostOutcome]:
        outcomes = {}
        for connection_id in dict.fromkeys(connection_ids):
            refusal = post_to_connection(self._runtime, connection_id, payload)
            outcomes[connection_id] = (
                PostOutcome.DELIVERED
                if refusal is None
                else outcome_of(refusal.status, refusal.error_type)
            )
        return outcomes


@contextlib.contextmanager
def serving_locally(endpoint: str, runtime: Runtime, enabled: bool) -> Iterator[None]:
    """While inside, the handler's posts to `endpoint` are delivered in-process (if enabled).

    Enter it on the gateway's running loop.
    """
    if not enabled:
        log.info("@connections posts to %s go over HTTP (--no-inprocess)", endpoint)
        yield
        return
    local_endpoints.register(endpoint, LocalDelivery(runtime, asyncio.get_running_loop()))
    log.info("@connections posts to %s are delivered in-process", endpoint)
    try:
        yield
    finally:
        local_endpoints.unregister(endpoint)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
