"""Connection store on DynamoDB: one partition per connection, a sparse GSI per room."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from adapters.dynamodb import items
from adapters.dynamodb.batch import BatchRetry, BatchWriter, Request
from adapters.dynamodb.errors import guarded as _guarded
from adapters.dynamodb.errors import store_errors as _errors
from adapters.dynamodb.reads import TableReader
from domain.errors import StoreError, UnknownConnection
from domain.model import Connection
from domain.ports import ConnectionStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoStore(ConnectionStore):
    """Built on a low-level client (thread-safe): its retry config covers throttled calls.

    `page_limit` caps the items of one Scan/Query page (None: DynamoDB's 1 MB alone);
    `batch_retry`, `sleep` and `rng` bound the retries of unprocessed batch writes.
    """

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        page_limit: int | None = None,
        *,
        batch_retry: BatchRetry | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._client = client
        self._table = table_name
        self._reader = TableReader(client, table_name, page_limit)
        retry = batch_retry or BatchRetry()
        self._batch = BatchWriter(client, table_name, retry, sleep, rng or random.Random())

    def add(self, connection: Connection) -> None:
        cid = connection.connection_id
        keep = {items.CONNECTION_SK} | {items.membership_sk(r) for r in connection.rooms}
        with _errors(f"add connection {cid!r}"):
            stale = [k for k in self._reader.partition_keys(cid) if k["sk"]["S"] not in keep]
            puts = [items.connection_item(connection), *items.membership_items(connection)]
            writes = items.put_requests(puts) + items.delete_requests(stale)
            self._write(writes, f"could not add connection {cid!r}")

    def get(self, connection_id: str) -> Connection | None:
        with _errors(f"get connection {connection_id!r}"):
            response = self._client.get_item(
                TableName=self._table, Key=items.key(connection_id), ConsistentRead=True
            )
        item = response.get("Item")
        return None if item is None else items.to_connection(item)

    def remove(self, connection_id: str) -> bool:
        with _errors(f"remove connection {connection_id!r}"):
            memberships = [
                k
                for k in self._reader.partition_keys(connection_id)
                if k["sk"]["S"] != items.CONNECTION_SK
            ]
            # Memberships first, the record last: a removal that fails half-way keeps the
            # record, so the connection stays known and a retry can finish the job.
            failure = f"could not remove connection {connection_id!r} (its record is kept)"
            self._write(items.delete_requests(memberships), failure)
            response = self._client.delete_item(
                TableName=self._table, Key=items.key(connection_id), ReturnValues="ALL_OLD"
            )
        return "Attributes" in response

    def join(self, connection_id: str, room: str) -> Connection:
        connection = self._update_rooms("ADD", connection_id, room)
        with _errors(f"record that {connection_id!r} joined room {room!r}"):
            self._client.put_item(
                TableName=self._table,
                Item=items.membership_item(connection_id, room, connection.expires_at),
            )
        return connection

    def leave(self, connection_id: str, room: str) -> Connection:
        connection = self._update_rooms("DELETE", connection_id, room)
        with _errors(f"record that {connection_id!r} left room {room!r}"):
            self._client.delete_item(
                TableName=self._table, Key=items.key(connection_id, items.membership_sk(room))
            )
        return connection

    def connection_ids(self, now: float) -> Iterator[str]:
        return _guarded(self._reader.live_connection_ids(now), "list connections")

    def room_member_ids(self, room: str, now: float) -> Iterator[str]:
        return _guarded(self._reader.live_member_ids(room, now), f"list room {room!r}")

    def _update_rooms(self, action: str, connection_id: str, room: str) -> Connection:
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=items.key(connection_id),
                UpdateExpression=f"{action} #rooms :room",
                # Without it, UpdateItem would create a record for an unknown id.
                ConditionExpression="attribute_exists(connectionId)",
                ExpressionAttributeNames={"#rooms": "rooms"},
                ExpressionAttributeValues={":room": {"SS": [room]}},
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise UnknownConnection(connection_id) from None
            message = f"DynamoDB could not {action} room {room!r} for {connection_id!r}: {error}"
            raise StoreError(message) from error
        return items.to_connection(response["Attributes"])

    def _write(self, requests: Sequence[Request], failure: str) -> None:
        outcome = self._batch.write(requests)
        if outcome.undone:
            undone = ", ".join(items.describe(r) for r in outcome.undone)
            raise StoreError(
                f"{failure}: {len(outcome.undone)} of {outcome.total} writes still unprocessed "
                f"after retries: {undone}"
            )
