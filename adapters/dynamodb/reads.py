"""Paginated reads of the connections table: every page, lazily, one page in memory at a time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from adapters.dynamodb import items

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import PaginatorConfigTypeDef


class TableReader:
    """Scans and Queries that follow LastEvaluatedKey to the end (botocore's paginators do)."""

    def __init__(self, client: DynamoDBClient, table_name: str, page_limit: int | None) -> None:
        self._client = client
        self._table = table_name
        # Items per page; DynamoDB also ends a page at 1 MB either way.
        self._paging: PaginatorConfigTypeDef = {"PageSize": page_limit} if page_limit else {}

    def live_connection_ids(
        self, now: float, after: str | None = None, **segment: int
    ) -> Iterator[str]:
        """Ids of connections not expired at `now`, from a Scan of the sparse connections
        index (connection items only); `segment` is Segment/TotalSegments.

        `after` resumes the Scan after that connection's key: a position in the Scan's order
        (hash order), valid even when the item is gone.
        """
        start = {} if after is None else {"ExclusiveStartKey": index_key(after)}
        return self._ids(
            "scan",
            **start,
            IndexName=items.CONNECTIONS_INDEX,
            FilterExpression="#exp > :now",
            ProjectionExpression="connectionId",
            ExpressionAttributeNames={"#exp": "expiresAt"},
            ExpressionAttributeValues={":now": {"N": repr(now)}},
            **segment,
        )

    def count_live(self, now: float, segment: int, total: int) -> int:
        """How many connections one segment of the connections index holds (every page)."""
        pages = self._client.get_paginator("scan").paginate(
            TableName=self._table,
            IndexName=items.CONNECTIONS_INDEX,
            Select="COUNT",
            FilterExpression="#exp > :now",
            ExpressionAttributeNames={"#exp": "expiresAt"},
            ExpressionAttributeValues={":now": {"N": repr(now)}},
            Segment=segment,
            TotalSegments=total,
        )
        return sum(int(page.get("Count", 0)) for page in pages)

    def live_member_ids(
        self, room: str, now: float, after: str | None = None, upto: str | None = None
    ) -> Iterator[str]:
        """A Query on the sparse room index: the room's members with after < id <= upto,
        ascending (the index's sort key is the id); it never reads the table."""
        names = {"#room": "room", "#exp": "expiresAt"}
        values = {":room": {"S": room}, ":now": {"N": repr(now)}}
        condition = "#room = :room"
        if after is not None or upto is not None:
            names["#id"] = "connectionId"
            bounds = {":after": after, ":upto": upto}
            values.update({k: {"S": v} for k, v in bounds.items() if v is not None})
        if after is not None and upto is not None:
            # BETWEEN is inclusive at both ends; the sort key allows one condition only.
            condition += " AND #id BETWEEN :after AND :upto"
        elif after is not None:
            condition += " AND #id > :after"
        elif upto is not None:
            condition += " AND #id <= :upto"
        ids = self._ids(
            "query",
            IndexName=items.ROOM_INDEX,
            KeyConditionExpression=condition,
            FilterExpression="#exp > :now",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
        return (i for i in ids if i != after)

    def count_members(self, room: str, now: float) -> int:
        """How many live members the room has, every page of the room index counted."""
        pages = self._client.get_paginator("query").paginate(
            TableName=self._table, Select="COUNT", **_room_query(room, now)
        )
        return sum(int(page.get("Count", 0)) for page in pages)

    def members(self, room: str, now: float, limit: int) -> list[tuple[str, str | None]]:
        """At most `limit` live members (id, sub), ids ascending."""
        pages = self._client.get_paginator("query").paginate(
            TableName=self._table,
            ProjectionExpression="connectionId, #sub",
            PaginationConfig={"PageSize": max(limit, 1)},
            **_room_query(room, now, {"#sub": "sub"}),
        )
        found: list[tuple[str, str | None]] = []
        for page in pages:
            for item in page.get("Items", ()):
                sub = item.get("sub", {}).get("S")
                found.append((item["connectionId"]["S"], sub))
                if len(found) == limit:
                    return found
        return found

    def partition_keys(self, connection_id: str) -> Iterator[items.Item]:
        """The keys of every item of one connection (its record and memberships), and
        the record's storedAt and connectedAt."""
        pages = self._client.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression="connectionId = :id",
            ExpressionAttributeValues={":id": {"S": connection_id}},
            ProjectionExpression="connectionId, #sk, storedAt, connectedAt",
            ExpressionAttributeNames={"#sk": "sk"},
            ConsistentRead=True,  # a write just before must be seen, or its item would survive
            PaginationConfig=self._paging,
        )
        for page in pages:
            yield from page.get("Items", ())

    def _ids(self, operation: str, **kwargs: Any) -> Iterator[str]:
        paginator = self._client.get_paginator(operation)  # type: ignore[call-overload]
        for page in paginator.paginate(
            TableName=self._table, PaginationConfig=self._paging, **kwargs
        ):
            for item in page.get("Items", ()):
                yield item["connectionId"]["S"]


def index_key(connection_id: str) -> items.Item:
    """The key of a connection's entry in the connections index (the table's key with it)."""
    return items.key(connection_id) | {items.CONNECTIONS_INDEX_KEY: {"S": connection_id}}


def _room_query(room: str, now: float, names: dict[str, str] | None = None) -> dict[str, Any]:
    """A Query of one room's live members on the room index."""
    return {
        "IndexName": items.ROOM_INDEX,
        "KeyConditionExpression": "#room = :room",
        "FilterExpression": "#exp > :now",
        "ExpressionAttributeNames": {"#room": "room", "#exp": "expiresAt", **(names or {})},
        "ExpressionAttributeValues": {":room": {"S": room}, ":now": {"N": repr(now)}},
    }
