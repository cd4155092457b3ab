"""The audience's parts on DynamoDB: everyone's as a parallel Scan's segments, a room's as key
ranges of the room index; a cursor is an ExclusiveStartKey or a bound of the key condition."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from adapters.dynamodb.errors import guarded, store_errors
from adapters.dynamodb.reads import TableReader
from domain.ports import AudienceReads
from domain.shards import Cursor, EveryonePart, Part

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


# The sample behind the audience's estimate (it sizes parts only, so a rough count serves):
# of SEGMENTS equal segments of the index, count until SAMPLE connections or MAX_SEGMENTS.
SEGMENTS = 128
SAMPLE = 500
MAX_SEGMENTS = 8


class DynamoAudience(AudienceReads):
    """EveryonePart(index, count) is Segment=index of TotalSegments=count, read in the Scan's
    order and resumed after a cursor's key; a RoomPart is a Query on the room index whose key
    condition bounds the id (the index's sort key), the cursor raising its lower bound."""

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        page_limit: int | None = None,
        segments: int = SEGMENTS,
    ) -> None:
        self._client = client
        self._table = table_name
        self._reader = TableReader(client, table_name, page_limit)
        self._segments = segments

    def audience_estimate(self, now: float) -> int:
        """Counted from a sample of the connections index: its first segments of `segments`,
        until SAMPLE connections or MAX_SEGMENTS segments are counted, scaled up. Not
        DescribeTable's ItemCount, which AWS refreshes about every six hours (a young table
        reads 0) and which counts every item, memberships and checkpoints too. Segments hold
        equal shares of the index's hash space, so a few of them stand for the whole."""
        counted = segments = 0
        with store_errors(f"count the connections of table {self._table!r}"):
            while segments < min(MAX_SEGMENTS, self._segments) and counted < SAMPLE:
                counted += self._reader.count_live(now, segments, self._segments)
                segments += 1
        return counted * self._segments // segments

    def part_ids(self, part: Part, now: float, after: Cursor | None = None) -> Iterator[str]:
        if isinstance(part, EveryonePart):
            segment = {"Segment": part.index, "TotalSegments": part.count}
            ids = self._reader.live_connection_ids(now, after, **segment)
            return guarded(ids, f"list part {part.index} of {part.count} after {after!r}")
        lower = part.after if after is None else after  # a cursor lies inside the range
        ids = self._reader.live_member_ids(part.room, now, lower, part.upto)
        return guarded(ids, f"list room {part.room!r} in ({lower!r}, {part.upto!r}]")
