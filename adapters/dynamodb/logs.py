"""Each room's counter and history on DynamoDB, in the connections table under the key
connectionId = "room#<name>" (no index reads them: they carry neither `cid` nor `room`).

- The counter (sk "#seq") gives each message its seq with one UpdateItem ADD, atomic however
  many Lambdas send at once: no seq is ever given twice.
- A message (sk "msg#<seq>", the seq zero-padded so items sort by it) keeps its envelope, the
  bytes its recipients got, until its expiresAt (TTL); reads filter the expired themselves.
- A message id the sender gave (sk "id#<sender>#<id>") is claimed with a conditional put before
  the seq is taken, so the same id from the same sender within the window is stored once.

A sender that dies between taking a seq and storing its message leaves that seq unused: no
recipient ever got it, so a replay skips it (seqs are strictly increasing, and every stored
one is replayed in order). A seq taken but not yet stored when a member rejoins reaches that
member live, since the member joined first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from adapters.dynamodb.errors import store_errors
from domain.history import Appended, HistoryPolicy
from domain.ports import RoomLogs

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

COUNTER_SK = "#seq"


class DynamoLogs(RoomLogs):
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def append(
        self,
        room: str,
        sender: str,
        message_id: str,
        render: Callable[[int], bytes],
        keep: HistoryPolicy,
        now: float,
        deduplicate: bool = True,
    ) -> Appended:
        expires = {"N": str(int(now + keep.ttl) + 1)}
        claim = _key(room, f"id#{sender}#{message_id}")
        with store_errors(f"store a message of room {room!r}"):
            if deduplicate and not self._claim(claim, expires, now):
                return Appended(self._seen_seq(claim), duplicate=True)
            seq = self._next_seq(room)
            message = _key(room, _message_sk(seq)) | {
                "envelope": {"S": render(seq).decode()},
                "expiresAt": expires,
            }
            self._client.put_item(TableName=self._table, Item=message)
            if deduplicate:  # the claim learns its seq, for the answer to a duplicate
                claimed = claim | {"seq": {"N": str(seq)}, "expiresAt": expires}
                self._client.put_item(TableName=self._table, Item=claimed)
        return Appended(seq)

    def last_seq(self, room: str) -> int:
        with store_errors(f"read the last seq of room {room!r}"):
            response = self._client.get_item(
                TableName=self._table, Key=_key(room, COUNTER_SK), ConsistentRead=True
            )
        item = response.get("Item")
        return int(item["seq"]["N"]) if item else 0

    def replay(self, room: str, after: int, keep: HistoryPolicy, now: float) -> list[bytes] | None:
        last = self.last_seq(room)
        if not keep.can_replay(after, last):
            return None if after != last else []
        if after == last:
            return []
        with store_errors(f"read the history of room {room!r}"):
            pages = self._client.get_paginator("query").paginate(
                TableName=self._table,
                KeyConditionExpression="connectionId = :pk AND sk BETWEEN :first AND :last",
                ExpressionAttributeValues={
                    ":pk": {"S": _pk(room)},
                    ":first": {"S": _message_sk(after + 1)},
                    ":last": {"S": _message_sk(last)},
                },
                ConsistentRead=True,
            )
            found = [item for page in pages for item in page.get("Items", ())]
        if any(int(item["expiresAt"]["N"]) <= now for item in found):
            return None  # the history no longer holds them all
        return [item["envelope"]["S"].encode() for item in found]

    def _claim(self, claim: dict[str, Any], expires: dict[str, str], now: float) -> bool:
        """True when this sender's id was not seen within the window (now it is)."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item=claim | {"expiresAt": expires},
                ConditionExpression="attribute_not_exists(connectionId) OR expiresAt <= :now",
                ExpressionAttributeValues={":now": {"N": str(int(now))}},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _seen_seq(self, claim: dict[str, Any]) -> int:
        """The seq of the message first sent with the id (0 while that send is in flight)."""
        response = self._client.get_item(TableName=self._table, Key=claim, ConsistentRead=True)
        item = response.get("Item", {})
        return int(item["seq"]["N"]) if "seq" in item else 0

    def _next_seq(self, room: str) -> int:
        response = self._client.update_item(
            TableName=self._table,
            Key=_key(room, COUNTER_SK),
            UpdateExpression="ADD seq :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
            ReturnValues="UPDATED_NEW",
        )
        return int(response["Attributes"]["seq"]["N"])


def _pk(room: str) -> str:
    return f"room#{room}"


def _key(room: str, sk: str) -> dict[str, Any]:
    return {"connectionId": {"S": _pk(room)}, "sk": {"S": sk}}


def _message_sk(seq: int) -> str:
    return f"msg#{seq:020d}"
