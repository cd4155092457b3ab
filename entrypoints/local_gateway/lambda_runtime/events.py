"""CONNECT, MESSAGE and DISCONNECT events in API Gateway's exact shape (Lambda proxy)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from entrypoints.local_gateway.lambda_runtime import ids

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# API Gateway does not pass the hop-by-hop headers of the upgrade on to $connect.
_DROPPED_HEADERS = frozenset(("connection", "upgrade"))


@dataclass(frozen=True)
class Stage:
    """The API and stage that every event names."""

    api_id: str
    name: str


@dataclass(frozen=True)
class ConnectionFacts:
    """What API Gateway knows about a connection and repeats in each of its events."""

    connection_id: str
    connected_at_ms: int
    source_ip: str
    user_agent: str | None
    domain_name: str
    # The context a Lambda REQUEST authorizer returned, passed on to every route (issue 7).
    authorizer: Mapping[str, Any] | None = field(default=None)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def connect_event(
    stage: Stage,
    conn: ConnectionFacts,
    headers: Iterable[tuple[str, str]],
    query: str,
    client_port: str,
) -> dict[str, Any]:
    """$connect: the upgrade request's headers and query string, no body."""
    kept = [(name, value) for name, value in headers if name.lower() not in _DROPPED_HEADERS]
    kept += [
        ("X-Amzn-Trace-Id", ids.trace_id()),
        ("X-Forwarded-For", conn.source_ip),
        ("X-Forwarded-Port", client_port),
        ("X-Forwarded-Proto", "http"),
    ]
    event: dict[str, Any] = _with_headers(kept)
    if query:
        event.update(_query_parameters(query))
    event["requestContext"] = _request_context(stage, conn, "$connect", "CONNECT")
    event["isBase64Encoded"] = False
    return event


def message_event(stage: Stage, conn: ConnectionFacts, route_key: str, body: str) -> dict[str, Any]:
    """A message on a route: the text as `body` and a `messageId`; no headers."""
    context = _request_context(stage, conn, route_key, "MESSAGE")
    context["messageId"] = ids.gateway_id()
    return {"requestContext": context, "body": body, "isBase64Encoded": False}


def disconnect_event(
    stage: Stage, conn: ConnectionFacts, status_code: int, reason: str
) -> dict[str, Any]:
    """$disconnect: the close code and reason; AWS sends these four headers, mostly empty."""
    event = _with_headers(
        [("Host", conn.domain_name), ("x-api-key", ""), ("X-Forwarded-For", ""), ("x-restapi", "")]
    )
    context = _request_context(stage, conn, "$disconnect", "DISCONNECT")
    context["disconnectStatusCode"] = status_code
    context["disconnectReason"] = reason
    event["requestContext"] = context
    event["isBase64Encoded"] = False
    return event


def _request_context(
    stage: Stage, conn: ConnectionFacts, route_key: str, event_type: str
) -> dict[str, Any]:
    request_id = ids.gateway_id()
    epoch_ms = now_ms()
    identity = {"sourceIp": conn.source_ip}
    if conn.user_agent:
        identity["userAgent"] = conn.user_agent
    context: dict[str, Any] = {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": request_id,
        "requestTime": request_time(epoch_ms),
        "messageDirection": "IN",
        "stage": stage.name,
        "connectedAt": conn.connected_at_ms,
        "requestTimeEpoch": epoch_ms,
        "identity": identity,
        "requestId": request_id,
        "domainName": conn.domain_name,
        "connectionId": conn.connection_id,
        "apiId": stage.api_id,
    }
    if conn.authorizer is not None:
        context["authorizer"] = dict(conn.authorizer)
    return context


def request_time(epoch_ms: int) -> str:
    """Common Log Format in UTC, as API Gateway writes it: `11/Nov/2024:11:35:24 +0000`."""
    t = time.gmtime(epoch_ms / 1000)
    day = f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}"
    return f"{day}:{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"


def _with_headers(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    # `headers` keeps the last value of a repeated header, `multiValueHeaders` all of them.
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value
        multi.setdefault(name, []).append(value)
    return {"headers": single, "multiValueHeaders": multi}


def _query_parameters(query: str) -> dict[str, Any]:
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        single[name] = value
        multi.setdefault(name, []).append(value)
    return {"queryStringParameters": single, "multiValueQueryStringParameters": multi}
