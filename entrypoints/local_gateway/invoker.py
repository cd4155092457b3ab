"""Invokes the Lambda handler like Lambda does: in a worker thread, with a context, timed."""

from __future__ import annotations

import asyncio
import importlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from entrypoints.local_gateway.lambda_context import (
    INTEGRATION_TIMEOUT_SECONDS,
    FunctionInfo,
    LambdaContext,
)

log = logging.getLogger("switchboard.gateway")
Handler = Callable[[dict[str, Any], Any], Any]


class HandlerError(ValueError):
    """The --handler value does not name a callable; the message says why."""


def load_handler(spec: str) -> Handler:
    """Import `package.module:function` (a dot before the function works too, as in Lambda)."""
    module_name, sep, function_name = spec.rpartition(":")
    if not sep:
        module_name, sep, function_name = spec.rpartition(".")
    if not module_name or not function_name:
        raise HandlerError(f"--handler {spec!r} must look like module:function")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise HandlerError(f"cannot import {module_name!r} for --handler {spec!r}: {exc}") from exc
    handler = getattr(module, function_name, None)
    if handler is None:
        raise HandlerError(f"module {module_name!r} has no {function_name!r} (--handler {spec!r})")
    if not callable(handler):
        raise HandlerError(f"{spec!r} is a {type(handler).__name__}, not a function")
    return handler  # type: ignore[no-any-return]


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
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, not {workers}")
        self._handler = handler
        self._function = function
        self._timeout = timeout
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lambda")

    async def invoke(self, event: dict[str, Any]) -> Invocation:
        context = LambdaContext(self._function, self._timeout)
        request = event["requestContext"]
        started = time.perf_counter()
        future = asyncio.get_running_loop().run_in_executor(
            self._pool, self._handler, event, context
        )
        try:
            # shield: like API Gateway, stop waiting at the timeout but let the function run on.
            outcome = Invocation(await asyncio.wait_for(asyncio.shield(future), self._timeout))
        except TimeoutError:
            outcome = Invocation(timed_out=True)
            future.add_done_callback(_log_late_failure)
            log.error(
                "handler timed out after %.0f s: route=%s connection=%s request=%s",
                self._timeout,
                request["routeKey"],
                request["connectionId"],
                context.aws_request_id,
            )
        except Exception:
            outcome = Invocation(failed=True)
            log.exception(
                "handler raised: route=%s connection=%s request=%s lambda_request=%s",
                request["routeKey"],
                request["connectionId"],
                request["requestId"],
                context.aws_request_id,
            )
        log.info(
            "invoke route=%s connection=%s status=%d duration_ms=%.1f",
            request["routeKey"],
            request["connectionId"],
            outcome.status(),
            (time.perf_counter() - started) * 1000,
        )
        return outcome

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)


def _log_late_failure(future: asyncio.Future[Any]) -> None:
    # Nobody awaits a timed-out call any more: report its failure here instead of losing it.
    if not future.cancelled() and future.exception() is not None:
        log.error("a timed-out handler call failed later", exc_info=future.exception())
