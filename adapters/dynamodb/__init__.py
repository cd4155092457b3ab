"""DynamoDB: the connections table (store, audience reads, shard checkpoints, batch writes).

`open_storage` is the one entry the composition root calls. Its modules are imported when first
used, so a process that uses another store never loads them, and a cold start that only
connects never loads the reads of sharded broadcasts.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from domain.ports import (
        AudienceReads,
        ConnectionStore,
        MessageBudgets,
        RoomLogs,
        ShardProgress,
    )


class DynamoStorage:
    """Every storage port over one table, through one low-level client (thread-safe)."""

    def __init__(self, region: str, endpoint: str | None, table_name: str) -> None:
        import boto3
        from botocore.config import Config

        # Standard retry mode retries DynamoDB throttling with backoff, bounded in attempts.
        config = Config(
            retries={"mode": "standard", "total_max_attempts": 5}, max_pool_connections=32
        )
        self.client: Any = boto3.client(
            "dynamodb", region_name=region, endpoint_url=endpoint, config=config
        )
        self.table_name = table_name

    @cached_property
    def connections(self) -> ConnectionStore:
        from adapters.dynamodb.store import DynamoStore

        return DynamoStore(self.client, self.table_name)

    @cached_property
    def audience(self) -> AudienceReads:
        from adapters.dynamodb.audience import DynamoAudience

        return DynamoAudience(self.client, self.table_name)

    @cached_property
    def budgets(self) -> MessageBudgets:
        from adapters.dynamodb.budgets import DynamoBudgets

        return DynamoBudgets(self.client, self.table_name)

    @cached_property
    def logs(self) -> RoomLogs:
        from adapters.dynamodb.logs import DynamoLogs

        return DynamoLogs(self.client, self.table_name)

    @cached_property
    def progress(self) -> ShardProgress:
        from adapters.dynamodb.progress import DynamoProgress

        return DynamoProgress(self.client, self.table_name)


def open_storage(region: str, endpoint: str | None, table_name: str) -> DynamoStorage:
    return DynamoStorage(region, endpoint, table_name)
