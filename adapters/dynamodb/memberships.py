"""Joining and leaving a room on DynamoDB: the record's `rooms` set and the membership item the
room index reads, changed together in one transaction (TransactWriteItems), never one alone."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from adapters.dynamodb import items
from domain.errors import StoreError, TooManyRooms, UnknownConnection
from domain.model import Connection

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# The record's room count is checked by DynamoDB, atomically with the write: two joins at once
# cannot both take the last place. Rejoining a room the connection is in always passes.
_JOIN_CONDITION = (
    "attribute_exists(connectionId) AND "
    "(attribute_not_exists(#rooms) OR contains(#rooms, :name) OR size(#rooms) < :max)"
)


def join(
    client: DynamoDBClient, table: str, record: Connection, room: str, max_rooms: int
) -> Connection:
    """`record` as read just before: the membership item expires with it."""
    cid = record.connection_id
    if room not in record.rooms and len(record.rooms) >= max_rooms:
        raise TooManyRooms(cid, max_rooms)
    update = _update(table, cid, "ADD", room, _JOIN_CONDITION)
    update["ExpressionAttributeValues"] |= {":name": {"S": room}, ":max": {"N": str(max_rooms)}}
    put = {"TableName": table, "Item": items.membership_item(record, room)}
    refused = _transact(client, [{"Update": update}, {"Put": put}], f"{cid!r} join {room!r}")
    if refused is not None:
        if "Item" not in refused:  # the record went between the read and the write
            raise UnknownConnection(cid)
        raise TooManyRooms(cid, max_rooms)
    return replace(record, rooms=record.rooms | {room})


def leave(client: DynamoDBClient, table: str, record: Connection, room: str) -> Connection:
    cid = record.connection_id
    update = _update(table, cid, "DELETE", room, "attribute_exists(connectionId)")
    delete = {"TableName": table, "Key": items.key(cid, items.membership_sk(room))}
    if _transact(client, [{"Update": update}, {"Delete": delete}], f"{cid!r} leave {room!r}"):
        raise UnknownConnection(cid)  # the record went between the read and the write
    return replace(record, rooms=record.rooms - {room})


def _update(table: str, cid: str, action: str, room: str, condition: str) -> dict[str, Any]:
    return {
        "TableName": table,
        "Key": items.key(cid),
        "UpdateExpression": f"{action} #rooms :room",
        "ConditionExpression": condition,
        "ExpressionAttributeNames": {"#rooms": "rooms"},
        "ExpressionAttributeValues": {":room": {"SS": [room]}},
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


# A transaction that meets another on the same items is cancelled (TransactionConflict), and
# botocore does not retry it: two messages of one connection may run on two Lambdas at once.
_ATTEMPTS = 3


def _transact(
    client: DynamoDBClient, writes: list[dict[str, Any]], what: str
) -> dict[str, Any] | None:
    """Run the writes as one transaction; None when they all took, else the cancellation reason
    of the record's update (its condition failed). Any other failure is a StoreError."""
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            client.transact_write_items(TransactItems=writes)  # type: ignore[arg-type]
            return None
        except ClientError as error:
            reasons = error.response.get("CancellationReasons") or []
            codes = [reason.get("Code") for reason in reasons]
            if codes and codes[0] == "ConditionalCheckFailed":
                return dict(reasons[0])
            if "TransactionConflict" in codes and attempt < _ATTEMPTS:
                continue
            raise StoreError(f"DynamoDB could not write {what}: {error}") from error
        except BotoCoreError as error:
            raise StoreError(f"DynamoDB could not write {what}: {error}") from error
    raise AssertionError("unreachable")
