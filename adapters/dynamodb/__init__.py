"""DynamoDB: the connections table (store, audience reads, shard checkpoints, batch writes, schema).

`open_storage` is the one entry the composition root calls. Its modules are imported when it
runs, so a process that uses another store never loads them.
"""

from __future__ import annotations

from domain.ports import Storage


def open_storage(region: str, endpoint: str | None, table_name: str) -> Storage:
    """Every storage port over one table, through one low-level client (thread-safe)."""
    import boto3
    from botocore.config import Config

    from adapters.dynamodb.audience import DynamoAudience
    from adapters.dynamodb.progress import DynamoProgress
    from adapters.dynamodb.store import DynamoStore

    # Standard retry mode retries DynamoDB throttling with backoff, bounded in attempts.
    config = Config(retries={"mode": "standard", "total_max_attempts": 5}, max_pool_connections=32)
    client = boto3.client("dynamodb", region_name=region, endpoint_url=endpoint, config=config)
    return Storage(
        connections=DynamoStore(client, table_name),
        audience=DynamoAudience(client, table_name),
        progress=DynamoProgress(client, table_name),
    )
