"""Paginated reads of the connections table: every page, lazily, one page in memory at a time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from adapters import dynamodb_items as items

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

    def live_connection_ids(self, now: float, **segment: int) -> Iterator[str]:
        """Ids of connection items not expired at `now`; `segment` is Segment/TotalSegments."""
        return self._ids(
            "scan",
            FilterExpression="#sk = :connection AND #exp > :now",
            ProjectionExpression="connectionId",
            ExpressionAttributeNames={"#sk": "sk", "#exp": "expiresAt"},
            ExpressionAttributeValues={
                ":connection": {"S": items.CONNECTION_SK},
                ":now": {"N": repr(now)},
            },
            **segment,
        )

    def live_member_ids(self, room: str, now: float) -> Iterator[str]:
        """A Query on the sparse room index: it reads the room's members, never the table."""
        return self._ids(
            "query",
            IndexName=items.ROOM_INDEX,
            KeyConditionExpression="#room = :room",
            FilterExpression="#exp > :now",
            ExpressionAttributeNames={"#room": "room", "#exp": "expiresAt"},
            ExpressionAttributeValues={":room": {"S": room}, ":now": {"N": repr(now)}},
        )

    def partition_keys(self, connection_id: str) -> Iterator[items.Item]:
        """The keys of every item of one connection: its record and its memberships."""
        pages = self._client.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression="connectionId = :id",
            ExpressionAttributeValues={":id": {"S": connection_id}},
            ProjectionExpression="connectionId, #sk",
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
