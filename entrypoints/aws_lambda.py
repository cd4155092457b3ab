"""The Lambda handler: parse the event, run one use case, map the result to a status code."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit

from domain.model import FanoutResult
from domain.protocol import DEFAULT_ROUTE, ROUTES
from domain.service import MessageOutcome, Switchboard
from entrypoints.composition import container as composition
from entrypoints.composition import services
from entrypoints.events import BadEvent, WebSocketEvent
from entrypoints.observability import NAMESPACE, add_metric, invocation

logger = Logger(service="switchboard")

MESSAGE_ROUTES = frozenset((DEFAULT_ROUTE, *ROUTES))
QUIET_ROUTES = frozenset(("$connect", "$disconnect"))


def container() -> composition.Container:
    """The process's container (entrypoints/composition/container.py), built on first use."""
    return composition.shared()


def reset_container(new: composition.Container | None = None) -> None:
    """For tests and the local gateway: start from a fresh (or given) container."""
    composition.reset_shared(new)


@invocation(logger, NAMESPACE)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        ws = WebSocketEvent.parse(event)
    except BadEvent as exc:
        return _malformed(exc)
    # Per-line keys: the context's are the invocation's (entrypoints/observability.py).
    keys = {"route": ws.route_key, "connection_id": ws.connection_id, "request_id": ws.request_id}
    try:
        status, counts = _dispatch(ws)
    except BadEvent as exc:
        return _malformed(exc, keys)
    duration_ms = round((time.perf_counter() - started) * 1000, 2)
    # A connect or disconnect that went well logs at DEBUG: API Gateway's access log already
    # has a line for each (and ConnectCount and our Disconnects count them), and its JSON line
    # cost as much CPU as the rest of the invocation (loadtests/RESULTS.md, "connects").
    quiet = status < 300 and ws.route_key in QUIET_ROUTES
    log = logger.debug if quiet else logger.info
    log("invocation", extra={**keys, "status": status, "duration_ms": duration_ms, **counts})
    return _response(status, "OK" if status < 300 else counts.get("error", "Error"))


def _malformed(exc: BadEvent, keys: Mapping[str, str] | None = None) -> dict[str, Any]:
    logger.warning("malformed event", extra={**(keys or {}), "error": str(exc)})
    add_metric("MalformedEvents", 1)
    return _response(400, f"Bad event: {exc}")


def _dispatch(ws: WebSocketEvent) -> tuple[int, dict[str, Any]]:
    if ws.route_key == "$connect":
        _service(ws).connect(ws.connection_id, ws.connected_at_ms, ws.identity)
        # No metric of ours: API Gateway's own ConnectCount counts these, and an EMF record
        # per connect cost a quarter of a connect's CPU under serve (loadtests/RESULTS.md).
        return 200, {}
    if ws.route_key == "$disconnect":
        existed = _service(ws).disconnect(ws.connection_id)
        add_metric("Disconnects", 1)
        return 200, {"existed": existed}
    if ws.route_key not in MESSAGE_ROUTES:
        raise BadEvent(f"route key {ws.route_key!r} is not one of {sorted(MESSAGE_ROUTES)}")
    if ws.body is None:
        raise BadEvent(f"a {ws.route_key} event needs a body")
    started = time.perf_counter()
    outcome = _service(ws).on_message(ws.connection_id, ws.route_key, ws.body, ws.identity)
    add_metric("Messages", 1)
    return (400 if outcome.error else 200), _record(outcome, time.perf_counter() - started)


def _service(ws: WebSocketEvent) -> Switchboard:
    """The use cases for the event's @connections endpoint (composition/services.py)."""
    c = container()
    endpoint = c.config.apigw_endpoint() or ws.management_endpoint(c.config.region())
    return services.for_endpoint(c, endpoint)


def _record(outcome: MessageOutcome, seconds: float) -> dict[str, Any]:
    counts: dict[str, Any] = {"command": outcome.command}
    if outcome.error:
        counts["error"] = outcome.error
    if outcome.error == "rate_limited":
        add_metric("MessagesRateLimited", 1)
    if outcome.closed:
        counts["closed"] = True
        add_metric("ConnectionsClosedExpiredToken", 1)
    total = (outcome.broadcast or FanoutResult()) + (outcome.reply or FanoutResult())
    counts.update(
        recipients=total.recipients,
        delivered=total.delivered,
        pruned=total.pruned,
        failed=total.failed,
        retries=total.retries,
    )
    add_metric("PostsDelivered", total.delivered)
    add_metric("PostsPruned", total.pruned)
    add_metric("PostsFailed", total.failed)
    if outcome.sharded is not None:
        counts.update(
            broadcast_id=outcome.sharded.broadcast_id,
            shards=outcome.sharded.shards,
            seen=outcome.sharded.seen,
        )
        add_metric("ShardedBroadcasts", 1)
        add_metric("ShardsDispatched", outcome.sharded.shards)
    if outcome.broadcast is not None or outcome.sharded is not None:
        milliseconds = round(seconds * 1000, 2)
        counts["fanout_ms"] = milliseconds
        add_metric("FanoutDuration", milliseconds, MetricUnit.Milliseconds)
    if total.failed_ids:
        counts["failed_ids"] = list(total.failed_ids[:20])
    return counts


def _response(status: int, body: str) -> dict[str, Any]:
    return {"statusCode": status, "body": json.dumps({"message": body}) if status >= 300 else body}
