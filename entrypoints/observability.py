"""Powertools logging and metrics per invocation, safe when invocations overlap in one process.

On Lambda a sandbox runs one invocation at a time, so Powertools keeps a logger's keys and a
Metrics set process-wide. `switchboard serve` runs handlers on a pool of threads, and there
that shared state raced: `inject_lambda_context` wrote one invocation's request id into
another's lines, and one thread's `log_metrics` flush emptied a set that another was about to
serialize (SchemaValidationError, so a `$connect` failed with 500). Here each invocation gets
its keys through the logger's thread-safe (context-variable) keys and an EphemeralMetrics of
its thread's own, flushed when it ends: the same lines and EMF records on AWS, and no sharing
under `serve`.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

Handler = TypeVar("Handler", bound=Callable[[Any, Any], Any])
NAMESPACE = "Switchboard"  # of our CloudWatch metrics, sent as EMF records on stdout

_metrics: ContextVar[EphemeralMetrics | None] = ContextVar("switchboard_metrics", default=None)
_per_thread = threading.local()
_warm: set[str] = set()  # functions that have run in this process: later calls are warm


def invocation(logger: Logger, namespace: str | None = None) -> Callable[[Handler], Handler]:
    """Decorate a Lambda handler: the context's keys on each of its log lines and, with a
    `namespace`, the metrics it adds (`add_metric`) flushed as one EMF record at its end."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def run(event: Any, context: Any) -> Any:
            logger.thread_safe_clear_keys()
            logger.thread_safe_append_keys(**_context_keys(context, logger.service))
            metrics = _thread_metrics(namespace, logger.service) if namespace else None
            token = _metrics.set(metrics)
            try:
                return handler(event, context)
            finally:
                _metrics.reset(token)
                logger.thread_safe_clear_keys()
                if metrics is not None and metrics.metric_set:
                    metrics.flush_metrics()  # and empties the set for the thread's next call

        return run  # type: ignore[return-value]

    return decorate


def _thread_metrics(namespace: str, service: str) -> EphemeralMetrics:
    # One per thread, namespace and service (the handlers share a namespace), reused: a thread
    # runs one invocation at a time.
    per_key: dict[tuple[str, str], EphemeralMetrics] = _per_thread.__dict__.setdefault(
        "metrics", {}
    )
    metrics = per_key.get((namespace, service))
    if metrics is None:
        metrics = per_key[namespace, service] = EphemeralMetrics(
            namespace=namespace, service=service
        )
    return metrics


def add_metric(name: str, value: float, unit: MetricUnit = MetricUnit.Count) -> None:
    """Count into the running invocation's metrics (see `invocation`)."""
    metrics = _metrics.get()
    if metrics is None:
        raise RuntimeError(f"metric {name} added outside an invocation with metrics")
    metrics.add_metric(name=name, unit=unit, value=value)


def _context_keys(context: Any, function: str) -> dict[str, Any]:
    """What Powertools' inject_lambda_context puts on each line, cold_start included."""
    cold = function not in _warm
    _warm.add(function)
    return {
        "cold_start": cold,
        "function_name": getattr(context, "function_name", None),
        "function_memory_size": getattr(context, "memory_limit_in_mb", None),
        "function_arn": getattr(context, "invoked_function_arn", None),
        "function_request_id": getattr(context, "aws_request_id", None),
    }
