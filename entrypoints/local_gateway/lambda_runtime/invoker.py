"""Invokes the Lambda handler like Lambda does: in a worker thread, with a context, timed."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from domain.limits import INTEGRATION_TIMEOUT_SECONDS
from entrypoints.local_gateway.lambda_runtime.console import Invoked, render
from entrypoints.local_gateway.lambda_runtime.handlers import Handler
from entrypoints.local_gateway.lambda_runtime.lambda_context import (
    FunctionInfo,
    LambdaContext,
)
from entrypoints.local_gateway.lambda_runtime.output import WholeLines
from entrypoints.local_gateway.lambda_runtime.workers import WorkerPool

log = logging.getLogger("local_gateway")


@dataclass(frozen=True)
class Invocation:
    """One call's outcome: the handler's result, or why there is none."""

    result: Any = None
    failed: bool = False  # the handler raised
    timed_out: bool = False  # past API Gateway's 29 s integration timeout

    def status(self) -> int:
        """The status API Gateway would log: the handler's statusCode, 500 or 504."""
        if self.timed_out:
            return 504
        if self.failed:
            return 500
        return status_code(self.result)


def status_code(result: Any) -> int:
    """The proxy result's statusCode. A result without one counts as 200 (unconfirmed: AWS
    documents only that a non-2xx statusCode from $connect rejects the connection)."""
    if isinstance(result, dict) and "statusCode" in result:
        try:
            return int(result["statusCode"])
        except (TypeError, ValueError):
            log.warning("the handler returned statusCode %r, not a number", result["statusCode"])
            return 502
    return 200


class Invoker:
    """Runs the handler on a pool of worker threads, so the socket loop never waits on it."""

    def __init__(
        self,
        handler: Handler,
        workers: int,
        function: FunctionInfo,
        timeout: float = INTEGRATION_TIMEOUT_SECONDS,
        *,
        name: str = "handler",
        pool: Executor | None = None,
        log_format: str | None = None,
    ) -> None:
        """`log_format` ("text", "json"; console.py): how each invocation shows on the console,
        its handler's lines gathered under it; None leaves them as they come."""
        if workers < 1:
            raise ValueError(f"workers must be at least 1, not {workers}")
        self._handler = handler
        self._function = function
        self._timeout = timeout
        self._name = name  # what the log lines call the function
        self._pool = pool or WorkerPool(workers)
        self._first_call = asyncio.Lock()
        self._warm = False
        self._log_format = log_format

    def sibling(self, handler: Handler, name: str) -> Invoker:
        """Another function (the authorizer) on the same worker pool, with the same timeout."""
        return Invoker(
            handler, 1, self._function, self._timeout, name=name, pool=self._pool,
            log_format=self._log_format,
        )  # fmt: skip

    async def invoke(self, event: dict[str, Any]) -> Invocation:
        if self._warm:
            return await self._invoke(event)
        # Lambda initializes a sandbox before its first invocation, and a sandbox runs one
        # invocation at a time. Here every call shares one process, so the first call runs
        # alone: a handler that builds its clients lazily on its first call cannot race
        # another first call into building two (and losing what the other one stored).
        async with self._first_call:
            outcome = await self._invoke(event)
            self._warm = True
            return outcome

    async def _invoke(self, event: dict[str, Any]) -> Invocation:
        context = LambdaContext(self._function, self._timeout)
        request = event["requestContext"]
        started = time.perf_counter()
        out = sys.stdout if self._log_format and isinstance(sys.stdout, WholeLines) else None
        call = _Captured(self._handler, out)
        future = asyncio.get_running_loop().run_in_executor(self._pool, call, event, context)
        try:
            # shield: like API Gateway, stop waiting at the timeout but let the function run on.
            async with asyncio.timeout(self._timeout):
                outcome = Invocation(await asyncio.shield(future))
        except TimeoutError:
            outcome = Invocation(timed_out=True)
            future.add_done_callback(_log_late_failure)
            log.error(
                "%s timed out after %.0f s: route=%s connection=%s request=%s lambda_request=%s",
                self._name,
                self._timeout,
                request["routeKey"],
                request.get("connectionId", "-"),  # none in an HTTP API event
                request["requestId"],
                context.aws_request_id,
            )
        except Exception:
            outcome = Invocation(failed=True)
            log.exception(
                "%s raised: route=%s connection=%s request=%s lambda_request=%s",
                self._name,
                request["routeKey"],
                request.get("connectionId", "-"),  # none in an HTTP API event
                request["requestId"],
                context.aws_request_id,
            )
        duration_ms = (time.perf_counter() - started) * 1000
        connection = request.get("connectionId", "-")  # none in an HTTP API event
        if out is None or self._log_format == "json":  # the gateway's own line (stderr)
            log.info(
                "%s route=%s connection=%s status=%d duration_ms=%.1f",
                self._name, request["routeKey"], connection, outcome.status(), duration_ms,
            )  # fmt: skip
        if out is not None and self._log_format:
            name, memory = self._name, context.memory_limit_in_mb
            describe = getattr(self._handler, "function_for", None)  # --template's functions
            if describe is not None:
                name, memory = describe(request["routeKey"])
            invoked = Invoked(
                name, request["routeKey"], connection, outcome.status(), duration_ms,
                context.aws_request_id, memory, list(call.lines),
            )  # fmt: skip
            out.emit(render(invoked, self._log_format))
        return outcome

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)


class _Captured:
    """The handler, run with its thread's lines gathered (when `out` manages the console)."""

    def __init__(self, handler: Handler, out: WholeLines | None) -> None:
        self._handler = handler
        self._out = out
        self.lines: list[str] = []

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        if self._out is None:
            return self._handler(event, context)
        with self._out.capturing() as lines:
            self.lines = lines
            return self._handler(event, context)


def _log_late_failure(future: asyncio.Future[Any]) -> None:
    # Nobody awaits a timed-out call any more: report its failure here instead of losing it.
    if not future.cancelled() and future.exception() is not None:
        log.error("a timed-out handler call failed later", exc_info=future.exception())
