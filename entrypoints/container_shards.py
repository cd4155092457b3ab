"""Builders of the sharded broadcast's adapters, for container.py (which alone calls them).

Each imports its adapter when first called: a cold start that never shards never loads them.
"""

from __future__ import annotations

import uuid
from typing import Any

from domain.ports import ShardDispatcher


def dynamo_progress(client: Any, table_name: str) -> Any:
    from adapters.dynamodb.progress import DynamoProgress

    return DynamoProgress(client, table_name)


def sqs_client(region: str) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "total_max_attempts": 5})
    return boto3.client("sqs", region_name=region, config=config)


def sqs_dispatcher(client: Any, queue_url: str, endpoint: str) -> ShardDispatcher:
    from adapters.sqs.dispatcher import SqsDispatcher

    return SqsDispatcher(client, queue_url, endpoint)


def local_queue(workers: int, max_receive: int, region: str) -> Any:
    from adapters.memory.queue import LocalQueue
    from entrypoints.fanout_worker import handler  # the worker Lambda's own handler

    return LocalQueue(handler, workers, max_receive, region=region)


def local_dispatcher(queue: Any, endpoint: str) -> ShardDispatcher:
    from adapters.memory.queue import LocalDispatcher

    return LocalDispatcher(queue, endpoint)


def new_broadcast_id() -> str:
    return uuid.uuid4().hex
