"""Sharded broadcasts: the planner, the worker, and where shards go (SQS, or serve's queue).

Each builder imports what it builds when first called: a cold start that never shards never
loads the sharding modules or their adapters.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from domain.fanout import Fanout
    from domain.ports import AudienceReads, Clock, ConnectionStore, ShardDispatcher, ShardProgress
    from domain.shard_plan import ShardedFanout
    from domain.shard_worker import ShardWorker


def sharded_fanout(
    store: ConnectionStore,
    reads: AudienceReads,
    fanout: Fanout,
    clock: Clock,
    threshold: int,
    shard_size: int,
    dispatcher: ShardDispatcher,
) -> ShardedFanout:
    from domain.shard_plan import ShardedFanout, ShardPolicy

    policy = ShardPolicy(threshold, shard_size)
    return ShardedFanout(store, reads, fanout, dispatcher, clock, new_broadcast_id, policy)


def shard_worker(
    reads: AudienceReads, fanout: Fanout, progress: ShardProgress, clock: Clock, batch_size: int
) -> ShardWorker:
    from domain.shard_worker import ShardWorker

    return ShardWorker(reads, fanout, progress, clock, batch_size)


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
