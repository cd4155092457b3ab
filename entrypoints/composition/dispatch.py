"""Where a sharded broadcast's shards go: an SQS queue, or the local queue `serve` runs.

Each builder imports its adapter when first called: a cold start that never shards never
loads them.
"""

from __future__ import annotations

import uuid
from typing import Any

from domain.ports import ShardDispatcher


def sqs_client(region: str) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "total_max_attempts": 5})
    return boto3.client("sqs", region_name=region, config=config)


def sqs_dispatcher(client: Any, queue_url: str, endpoint: str) -> ShardDispatcher:
    from adapters.sqs.dispatcher import SqsDispatcher

    return SqsDispatcher(client, queue_url, endpoint)


def local_dispatcher(endpoint: str) -> ShardDispatcher:
    """To the fan-out queue this process serves (`switchboard serve` runs one, consumed by the
    worker Lambda's handler, as SQS and an event source mapping are on AWS)."""
    from adapters.memory.dispatcher import LocalDispatcher

    return LocalDispatcher(endpoint)


def new_broadcast_id() -> str:
    return uuid.uuid4().hex
