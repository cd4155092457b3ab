"""Shard checkpoints in the connections table: one item per shard, expired by its TTL.

Key: connectionId = "shard#<broadcast>/<index>", sk = "#progress". No connection id looks like
that (API Gateway's are 16 base64 characters), the connection Scan keeps only sk =
"#connection", and the item has no `room`, so it never enters the room index.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from adapters.dynamodb import items
from adapters.dynamodb.errors import store_errors
from domain.model import FanoutResult
from domain.ports import ShardProgress
from domain.shards import Checkpoint

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PROGRESS_SK = "#progress"
_COUNTS = ("recipients", "delivered", "pruned", "failed", "retries")


class DynamoProgress(ShardProgress):
    """Checkpoints read strongly consistent: a retry must see the last one saved."""

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        keep_seconds: int = 24 * 60 * 60,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._table = table_name
        self._keep = keep_seconds  # past SQS's retention of the task, a checkpoint is useless
        self._now = now

    def load(self, key: str) -> Checkpoint | None:
        with store_errors(f"read the checkpoint of shard {key!r}"):
            response = self._client.get_item(
                TableName=self._table, Key=_key(key), ConsistentRead=True
            )
        item = response.get("Item")
        return None if item is None else _checkpoint(item)

    def save(self, key: str, checkpoint: Checkpoint) -> None:
        item: dict[str, Any] = _key(key)
        if checkpoint.cursor is not None:
            item["cursor"] = {"S": checkpoint.cursor}
        for name in _COUNTS:
            item[name] = {"N": str(getattr(checkpoint.settled, name))}
        item["done"] = {"BOOL": checkpoint.done}
        item["expiresAt"] = {"N": str(int(self._now()) + self._keep)}
        with store_errors(f"save the checkpoint of shard {key!r}"):
            self._client.put_item(TableName=self._table, Item=item)


def _key(key: str) -> dict[str, Any]:
    return items.key(f"shard#{key}", PROGRESS_SK)


def _checkpoint(item: dict[str, Any]) -> Checkpoint:
    recipients, delivered, pruned, failed, retries = (
        int(item[name]["N"]) if name in item else 0 for name in _COUNTS
    )
    settled = FanoutResult(recipients, delivered, pruned, failed, retries)
    cursor = item["cursor"]["S"] if "cursor" in item else None
    return Checkpoint(cursor, settled, bool(item.get("done", {}).get("BOOL")))
