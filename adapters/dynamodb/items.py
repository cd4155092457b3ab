"""DynamoDB items <-> domain values, in the layout infra/template.yaml's comment describes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from domain.model import Connection, Identity

# An item is DynamoDB's attribute-value map, e.g. {"connectionId": {"S": "abc="}}.
Item = dict[str, Any]

CONNECTION_SK = "#connection"
MEMBERSHIP_PREFIX = "room#"
ROOM_INDEX = "room-index"
# A sparse index of connection items alone: its key, `cid`, is on no other item, so the Scan
# behind a broadcast to everyone reads connections, never memberships or checkpoints.
CONNECTIONS_INDEX = "connections-index"
CONNECTIONS_INDEX_KEY = "cid"

# Identity field -> item attribute, for the plain string fields.
_IDENTITY_STRINGS = {"source_ip": "sourceIp", "user_agent": "userAgent", "principal": "principal"}


def key(connection_id: str, sk: str = CONNECTION_SK) -> Item:
    return {"connectionId": {"S": connection_id}, "sk": {"S": sk}}


def membership_sk(room: str) -> str:
    return MEMBERSHIP_PREFIX + room


def connection_item(connection: Connection) -> Item:
    item = key(connection.connection_id)
    item[CONNECTIONS_INDEX_KEY] = {"S": connection.connection_id}
    item["connectedAt"] = {"N": str(connection.connected_at_ms)}
    item["expiresAt"] = {"N": str(connection.expires_at)}
    if connection.stored_at_ms is not None:
        item["storedAt"] = {"N": str(connection.stored_at_ms)}
    if connection.rooms:  # DynamoDB has no empty sets
        item["rooms"] = {"SS": sorted(connection.rooms)}
    identity = connection.identity
    if identity is not None:
        for field, attribute in _IDENTITY_STRINGS.items():
            value = getattr(identity, field)
            if value is not None:
                item[attribute] = {"S": value}
        # Absent means no authorizer ran; an empty list means "no rooms allowed".
        if identity.allowed_rooms is not None:
            item["allowedRooms"] = {"L": [{"S": pattern} for pattern in identity.allowed_rooms]}
    return item


def membership_item(connection: Connection, room: str) -> Item:
    """One membership: the room index's entry, with what presence shows of the member (`sub`)."""
    item = key(connection.connection_id, membership_sk(room))
    item["room"] = {"S": room}
    item["expiresAt"] = {"N": str(connection.expires_at)}
    principal = connection.identity.principal if connection.identity else None
    if principal:
        item["sub"] = {"S": principal}
    return item


def membership_items(connection: Connection) -> list[Item]:
    return [membership_item(connection, room) for room in sorted(connection.rooms)]


def to_connection(item: Mapping[str, Any]) -> Connection:
    """The Connection a connection item holds; an item with no identity field has none."""
    strings = {
        field: item[attribute]["S"]
        for field, attribute in _IDENTITY_STRINGS.items()
        if attribute in item
    }
    allowed = item.get("allowedRooms")
    allowed_rooms = None if allowed is None else tuple(value["S"] for value in allowed["L"])
    identity = None
    if strings or allowed_rooms is not None:
        identity = Identity(allowed_rooms=allowed_rooms, **strings)
    return Connection(
        connection_id=item["connectionId"]["S"],
        connected_at_ms=int(Decimal(item["connectedAt"]["N"])),
        expires_at=int(Decimal(item["expiresAt"]["N"])),
        rooms=frozenset(item.get("rooms", {}).get("SS", ())),
        identity=identity,
        stored_at_ms=int(Decimal(item["storedAt"]["N"])) if "storedAt" in item else None,
    )


def delete_requests(keys: Iterable[Item]) -> list[dict[str, Any]]:
    return [{"DeleteRequest": {"Key": k}} for k in keys]


def put_requests(items: Iterable[Item]) -> list[dict[str, Any]]:
    return [{"PutRequest": {"Item": item}} for item in items]


def describe(request: Mapping[str, Any]) -> str:
    """A write request in a few words, for error messages: "delete room#lobby"."""
    if "PutRequest" in request:
        return f"put {request['PutRequest']['Item']['sk']['S']}"
    return f"delete {request['DeleteRequest']['Key']['sk']['S']}"
