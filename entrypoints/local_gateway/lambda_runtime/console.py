"""What serve's console shows of each invocation (--log-format).

text (the default): one readable line per invocation (time, function, route, connection,
status, duration), the handler's own lines indented under it; a Powertools JSON log record reads
as its level and message with its own keys, an embedded metric format record as its metrics.
json: the lines exactly as CloudWatch Logs receives them from Lambda: START, the handler's lines
as written, END and REPORT.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from entrypoints.local_gateway.lambda_runtime.output import WholeLines

FORMATS = ("text", "json")
INDENT = "    "
# Keys every Powertools record carries: noise on a laptop's console.
_ROUTINE = frozenset({
    "level", "location", "message", "timestamp", "service", "cold_start", "function_name",
    "function_memory_size", "function_arn", "function_request_id", "xray_trace_id",
    "sampling_rate",
})  # fmt: skip


@dataclass(frozen=True)
class Invoked:
    """One invocation, as the console tells it."""

    function: str
    route: str
    connection: str
    status: int
    duration_ms: float
    request_id: str  # the Lambda request id
    memory_mb: str
    lines: Sequence[str]


def render(invoked: Invoked, log_format: str) -> str:
    if log_format == "json":
        return _cloudwatch(invoked)
    when = time.strftime("%H:%M:%S")
    head = (
        f"{when} {invoked.function} {invoked.route} {invoked.connection} "
        f"{invoked.status} {invoked.duration_ms:.1f} ms"
    )
    body = [INDENT + readable(line) for line in invoked.lines if line.strip()]
    return "\n".join([head, *body]) + "\n"


def readable(line: str) -> str:
    """A handler's line for a person: Powertools records and EMF blobs made short."""
    if not line.startswith("{"):
        return line
    try:
        record = json.loads(line)
    except ValueError:
        return line
    if not isinstance(record, dict):
        return line
    if "_aws" in record:
        return "metrics: " + ", ".join(f"{n}={_value(record.get(n))}" for n in _metrics(record))
    if "level" in record and "message" in record:
        extra = " ".join(f"{k}={_value(v)}" for k, v in record.items() if k not in _ROUTINE)
        return f"{record['level']} {record['message']}" + (f" {extra}" if extra else "")
    return line


def _metrics(record: dict[str, Any]) -> list[str]:
    names = []
    for group in (record.get("_aws") or {}).get("CloudWatchMetrics") or []:
        names += [metric.get("Name", "") for metric in group.get("Metrics") or []]
    return names


def _value(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and len(value) == 1:
        return _value(value[0])
    return json.dumps(value, separators=(",", ":"))


def _cloudwatch(invoked: Invoked) -> str:
    request = invoked.request_id
    billed = max(1, math.ceil(invoked.duration_ms))
    report = (
        f"REPORT RequestId: {request}\tDuration: {invoked.duration_ms:.2f} ms\t"
        f"Billed Duration: {billed} ms\tMemory Size: {invoked.memory_mb} MB"
    )
    lines = [f"START RequestId: {request} Version: $LATEST", *invoked.lines,
             f"END RequestId: {request}", report]  # fmt: skip
    return "\n".join(lines) + "\n"


class Shown:
    """A function called off the gateway's invoker (a queue's consumer, an event source
    mapping): each invocation shown on the console as the invoker shows its own."""

    def __init__(self, handler: Any, name: str, route: str, log_format: str | None) -> None:
        self._handler = handler
        self._name = name
        self._route = route
        self._format = log_format

    def __call__(self, event: Any, context: Any) -> Any:
        out = sys.stdout
        if not self._format or not isinstance(out, WholeLines):
            return self._handler(event, context)
        started, status = time.perf_counter(), 500
        with out.capturing() as lines:
            try:
                result = self._handler(event, context)
                status = 200
                return result
            finally:
                invoked = Invoked(
                    self._name, self._route, "-", status, (time.perf_counter() - started) * 1000,
                    str(getattr(context, "aws_request_id", "-")),
                    str(getattr(context, "memory_limit_in_mb", "-")), list(lines),
                )  # fmt: skip
                out.emit(render(invoked, self._format))
