"""Connection store on DynamoDB: one partition per connection, a sparse GSI per room."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from adapters.dynamodb import items, memberships
from adapters.dynamodb.batch import BatchRetry, BatchWriter, Request
from adapters.dynamodb.errors import guarded as _guarded
from adapters.dynamodb.errors import store_errors as _errors
from adapters.dynamodb.pruning import Pruner
from adapters.dynamodb.reads import TableReader
from domain.errors import StoreError, UnknownConnection
from domain.frames import Member
from domain.model import Connection
from domain.ports import ConnectionStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

log = logging.getLogger(__name__)


class DynamoStore(ConnectionStore):
    """Built on a low-level client (thread-safe): its retry config covers throttled calls.

    `page_limit` caps the items of one Scan/Query page (None: DynamoDB's 1 MB alone);
    `batch_retry`, `sleep` and `rng` bound the retries of unprocessed batch writes;
    `prune_concurrency` is how many gone connections are removed at once.
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
        prune_concurrency: int = 16,
    ) -> None:
        self._client = client
        self._table = table_name
        self._reader = TableReader(client, table_name, page_limit)
        retry = batch_retry or BatchRetry()
        self._batch = BatchWriter(client, table_name, retry, sleep, rng or random.Random())
        self._pruner = Pruner(self._remove_unless_stored_since, prune_concurrency)

    def add(self, connection: Connection) -> None:
        cid = connection.connection_id
        keep = {items.CONNECTION_SK} | {items.membership_sk(r) for r in connection.rooms}
        with _errors(f"add connection {cid!r}"):
            stale = [
                items.key(cid, k["sk"]["S"])
                for k in self._partition(cid)
                if k["sk"]["S"] not in keep
            ]
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

    def remove(self, connection_id: str) -> Connection | None:
        with _errors(f"remove connection {connection_id!r}"):
            return self._remove(connection_id, list(self._partition(connection_id)))

    def prune(
        self, connection_ids: Sequence[str], stored_before_ms: int | None, within: float
    ) -> set[str]:
        return self._pruner.prune(connection_ids, stored_before_ms, within)

    def join(self, connection_id: str, room: str, max_rooms: int) -> Connection:
        record = self._record(connection_id)
        return memberships.join(self._client, self._table, record, room, max_rooms)

    def leave(self, connection_id: str, room: str) -> Connection:
        record = self._record(connection_id)
        return memberships.leave(self._client, self._table, record, room)

    def connection_ids(self, now: float) -> Iterator[str]:
        return _guarded(self._reader.live_connection_ids(now), "list connections")

    def room_member_ids(self, room: str, now: float) -> Iterator[str]:
        return _guarded(self._reader.live_member_ids(room, now), f"list room {room!r}")

    def room_members(
        self, room: str, now: float, limit: int, exact: bool = True
    ) -> tuple[int, list[Member]]:
        with _errors(f"count the members of room {room!r}"):
            members = self._reader.members(room, now, limit) if limit else []
            count = self._reader.count_members(room, now) if exact else len(members)
        return count, [Member(cid, sub) for cid, sub in members]

    def _record(self, connection_id: str) -> Connection:
        record = self.get(connection_id)
        if record is None:
            raise UnknownConnection(connection_id)
        return record

    def _partition(self, connection_id: str) -> list[items.Item]:
        """The keys of every item of the connection (record, memberships, budget), the
        record's with its storedAt and connectedAt."""
        return list(self._reader.partition_keys(connection_id))

    def _remove_unless_stored_since(self, connection_id: str, stored_before_ms: int | None) -> bool:
        """One gone connection: its record first, in one conditional DeleteItem whose old image
        names its rooms, then their membership items in one batch. No Query: a 410 means the
        connection is gone for good, so if the batch fails the memberships are left to expire
        with it (they carry its expiresAt, and room reads skip expired items); its budget item,
        in no index, expires by its own TTL."""
        condition: dict[str, Any] = {}
        if stored_before_ms is not None:
            condition = {
                "ConditionExpression": "attribute_not_exists(connectionId) OR storedAt < :cutoff"
                " OR (attribute_not_exists(storedAt) AND connectedAt < :cutoff)",
                "ExpressionAttributeValues": {":cutoff": {"N": str(stored_before_ms)}},
            }
        try:
            response = self._client.delete_item(
                TableName=self._table,
                Key=items.key(connection_id),
                ReturnValues="ALL_OLD",
                **condition,
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                log.info("not pruning %s: stored moments ago, maybe not established",
                         connection_id)  # fmt: skip
                return False
            raise StoreError(f"DynamoDB could not prune {connection_id!r}: {error}") from error
        except BotoCoreError as error:
            raise StoreError(f"DynamoDB could not prune {connection_id!r}: {error}") from error
        old = response.get("Attributes") or {}
        rooms = old.get("rooms", {}).get("SS", [])
        keys = [items.key(connection_id, items.membership_sk(r)) for r in rooms]
        with _errors(f"delete the memberships of pruned connection {connection_id!r}"):
            self._write(items.delete_requests(keys), f"could not prune {connection_id!r}'s rooms")
        return True

    def _remove(self, connection_id: str, found: list[items.Item]) -> Connection | None:
        others = [
            items.key(i["connectionId"]["S"], i["sk"]["S"])
            for i in found
            if i["sk"]["S"] != items.CONNECTION_SK
        ]
        # Memberships first, the record last: a removal that fails half-way keeps the record,
        # so the connection stays known and a retry can finish the job.
        failure = f"could not remove connection {connection_id!r} (its record is kept)"
        self._write(items.delete_requests(others), failure)
        response = self._client.delete_item(
            TableName=self._table, Key=items.key(connection_id), ReturnValues="ALL_OLD"
        )
        old = response.get("Attributes")
        return None if old is None else items.to_connection(old)

    def _write(self, requests: Sequence[Request], failure: str) -> None:
        outcome = self._batch.write(requests)
        if outcome.undone:
            undone = ", ".join(items.describe(r) for r in outcome.undone)
            raise StoreError(
                f"{failure}: {len(outcome.undone)} of {outcome.total} writes still unprocessed "
                f"after retries: {undone}"
            )
