"""The DynamoDB store with the reads of sharded broadcasts: Scan segments and room-index ranges."""

from __future__ import annotations

from collections.abc import Iterator

from adapters.dynamodb.errors import guarded, store_errors
from adapters.dynamodb.store import DynamoStore
from domain.ports import ShardReads


class DynamoShardedStore(DynamoStore, ShardReads):
    """A segment is read in DynamoDB's Scan order and resumed with ExclusiveStartKey; a room
    range is a Query on the room index with a condition on its sort key (the id)."""

    def recipient_estimate(self) -> int:
        """DescribeTable's ItemCount: refreshed about every six hours, and it counts every
        item (memberships, shard checkpoints). It only sizes shards, so stale or high is fine."""
        with store_errors(f"describe table {self._table!r}"):
            table = self._client.describe_table(TableName=self._table)["Table"]
        return int(table.get("ItemCount", 0))

    def segment_ids(
        self, now: float, segment: int, total: int, after: str | None = None
    ) -> Iterator[str]:
        if not 0 <= segment < total:
            raise ValueError(f"segment must be in [0, {total}), not {segment}")
        ids = self._reader.live_connection_ids(now, after, Segment=segment, TotalSegments=total)
        return guarded(ids, f"list connections of segment {segment}/{total} after {after!r}")

    def room_range_ids(
        self, room: str, now: float, after: str | None = None, upto: str | None = None
    ) -> Iterator[str]:
        ids = self._reader.live_member_ids(room, now, after, upto)
        return guarded(ids, f"list room {room!r} in ({after!r}, {upto!r}]")
