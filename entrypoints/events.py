"""A thin typed view over API Gateway's WebSocket proxy event, with clear errors."""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.model import Identity
from domain.rooms import check_patterns

EVENT_TYPES = ("CONNECT", "MESSAGE", "DISCONNECT")


class BadEvent(ValueError):
    """The event is not one API Gateway's WebSocket API sends; the message says why."""


@dataclass(frozen=True)
class WebSocketEvent:
    """What the handler reads of one event: its route, connection, body and identity."""

    route_key: str
    event_type: str
    connection_id: str
    request_id: str
    api_id: str
    stage: str
    domain_name: str
    connected_at_ms: int
    body: str | None
    identity: Identity

    @classmethod
    def parse(cls, event: Any) -> WebSocketEvent:
        if not isinstance(event, Mapping):
            raise BadEvent(f"the event must be a JSON object, not {type(event).__name__}")
        context = event.get("requestContext")
        if not isinstance(context, Mapping):
            raise BadEvent("the event has no requestContext object")
        route_key = _text(context, "routeKey")
        connection_id = _text(context, "connectionId")
        event_type = context.get("eventType", "MESSAGE")
        if event_type not in EVENT_TYPES:
            raise BadEvent(f"requestContext.eventType {event_type!r} is not one of {EVENT_TYPES}")
        # Every WebSocket event has it; without it a record would expire in 1970.
        connected_at = context.get("connectedAt")
        if connected_at is None:
            raise BadEvent("the event has no requestContext.connectedAt")
        if not isinstance(connected_at, int) or isinstance(connected_at, bool) or connected_at < 0:
            raise BadEvent("requestContext.connectedAt must be epoch milliseconds (an integer)")
        return cls(
            route_key=route_key,
            event_type=event_type,
            connection_id=connection_id,
            request_id=str(context.get("requestId", "")),
            api_id=str(context.get("apiId", "")),
            stage=str(context.get("stage", "")),
            domain_name=str(context.get("domainName", "")),
            connected_at_ms=connected_at,
            body=_body(event),
            identity=_identity(context),
        )

    def management_endpoint(self, region: str) -> str:
        """The @connections endpoint from apiId, region and stage, in the region's partition
        (amazonaws.com.cn in China).

        Not from domainName: behind a custom domain it names the custom domain, whose base
        path need not be the stage, and posts there fail.
        """
        if not self.api_id or not self.stage:
            raise BadEvent("the event lacks requestContext.apiId or stage to reach @connections")
        return f"https://{self.api_id}.execute-api.{region}.{dns_suffix(region)}/{self.stage}"


@functools.cache
def dns_suffix(region: str) -> str:
    """The DNS suffix of the region's partition, from botocore's own partition data (the file its
    endpoint rules read): amazonaws.com, amazonaws.com.cn, ..."""
    import botocore.loaders  # loaded by boto3 already; the data file is read once

    partitions = botocore.loaders.create_loader().load_data("partitions")["partitions"]
    for partition in partitions:  # a region a partition names, first
        if region in partition.get("regions", {}):
            return str(partition["outputs"]["dnsSuffix"])
    for partition in partitions:  # else the one whose pattern it matches
        if re.match(partition["regionRegex"], region):
            return str(partition["outputs"]["dnsSuffix"])
    return "amazonaws.com"


def _text(context: Mapping[str, Any], key: str) -> str:
    value = context.get(key)
    if not isinstance(value, str) or not value:
        raise BadEvent(f"requestContext.{key} must be a non-empty string")
    return value


def _body(event: Mapping[str, Any]) -> str | None:
    body = event.get("body")
    if body is None:
        return None
    if not isinstance(body, str):
        raise BadEvent(f"the body must be a string, not {type(body).__name__}")
    if event.get("isBase64Encoded") is True:
        try:
            return base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise BadEvent(f"the base64 body is not UTF-8 text: {exc}") from exc
    return body


def _identity(context: Mapping[str, Any]) -> Identity:
    raw_identity = context.get("identity")
    identity = raw_identity if isinstance(raw_identity, Mapping) else {}
    source_ip = _optional(identity.get("sourceIp"))
    user_agent = _optional(identity.get("userAgent"))
    authorizer = context.get("authorizer")
    if not isinstance(authorizer, Mapping):  # no authorizer ran: no limits
        return Identity(source_ip=source_ip, user_agent=user_agent)
    # An authorizer ran: what its context does not grant is refused (fail closed). Context
    # values are strings, numbers or booleans only (no lists): room patterns travel as one
    # comma-separated string, and API Gateway may pass a boolean or number as its text.
    return Identity(
        source_ip=source_ip,
        user_agent=user_agent,
        principal=_optional(authorizer.get("sub")) or _optional(authorizer.get("principalId")),
        allowed_rooms=_rooms(authorizer.get("rooms")),
        may_broadcast=_flag(authorizer.get("broadcast")),
        token_expires_at=_epoch_seconds(authorizer.get("exp")),
    )


def _rooms(value: Any) -> tuple[str, ...]:
    """The room patterns of an authorizer's context; none when absent or malformed."""
    if not isinstance(value, str):
        return ()
    try:
        return check_patterns([p.strip() for p in value.split(",") if p.strip()])
    except ValueError:
        return ()


def _flag(value: Any) -> bool:
    """True only for the boolean true or its text (not 1, which Python calls equal to True)."""
    return value is True or value == "true"


def _epoch_seconds(value: Any) -> int | None:
    """The token's expiry: None when the authorizer gave none, 0 (long past) when it gave one
    that is not epoch seconds (fail closed)."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return 0


def _optional(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
