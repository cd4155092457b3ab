"""The composition root: the only module that names concrete adapters."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from dependency_injector import containers, providers

from adapters.apigateway import local_endpoints
from adapters.clock import SystemClock
from adapters.memory.progress import MemoryProgress
from adapters.memory.store import MemoryStore
from domain.fanout import Fanout, RetryPolicy
from domain.ports import TokenVerifier
from domain.service import Switchboard
from domain.shard_plan import ShardedFanout, ShardPolicy
from domain.shard_worker import ShardWorker
from entrypoints import container_publishers as publishing
from entrypoints import container_shards as shards
from entrypoints.settings import AuthSettings, Settings


def _dynamodb_client(region: str, endpoint: str | None) -> Any:
    import boto3
    from botocore.config import Config

    # Standard retry mode retries DynamoDB throttling with backoff, bounded in attempts.
    config = Config(retries={"mode": "standard", "total_max_attempts": 5}, max_pool_connections=32)
    return boto3.client("dynamodb", region_name=region, endpoint_url=endpoint, config=config)


def _dynamo_store(client: Any, table_name: str) -> Any:
    from adapters.dynamodb.shards import DynamoShardedStore

    return DynamoShardedStore(client, table_name)


class Container(containers.DeclarativeContainer):
    config = providers.Configuration()

    clock = providers.ThreadSafeSingleton(SystemClock)
    dynamodb_client = providers.ThreadSafeSingleton(
        _dynamodb_client, region=config.region, endpoint=config.dynamodb_endpoint
    )
    store = providers.Selector(
        config.store,
        memory=providers.ThreadSafeSingleton(MemoryStore),
        dynamodb=providers.ThreadSafeSingleton(
            _dynamo_store, client=dynamodb_client, table_name=config.table
        ),
    )
    publisher = providers.Selector(
        config.publisher,
        boto3=providers.Factory(
            publishing.boto3_publisher, region=config.region, concurrency=config.concurrency
        ),
        lean=providers.Factory(
            publishing.lean_publisher, region=config.region, concurrency=config.concurrency
        ),
    )
    # The configured publisher, unless a gateway in this process serves the endpoint itself.
    publishers = providers.ThreadSafeSingleton(
        publishing.Publishers,
        factory=publisher.provider,
        local=providers.Object(local_endpoints.lookup),
    )
    retry_policy = providers.ThreadSafeSingleton(
        RetryPolicy,
        max_attempts=config.max_attempts,
        base_delay=config.base_delay,
        max_delay=config.max_delay,
        deadline=config.deadline,
    )
    fanout = providers.Factory(
        Fanout,
        store=store,
        clock=clock,
        policy=retry_policy,
        batch_size=config.batch_size,
        establish_grace=config.establish_grace,
    )
    switchboard = providers.Factory(Switchboard, store=store, fanout=fanout, clock=clock)

    # Sharded broadcasts. Both stores implement ShardReads, so `store` serves as the reads.
    progress = providers.Selector(
        config.store,
        memory=providers.ThreadSafeSingleton(MemoryProgress),
        dynamodb=providers.ThreadSafeSingleton(
            shards.dynamo_progress, client=dynamodb_client, table_name=config.table
        ),
    )
    sqs_client = providers.ThreadSafeSingleton(shards.sqs_client, region=config.region)
    local_queue = providers.ThreadSafeSingleton(
        shards.local_queue,
        workers=config.shard_workers,
        max_receive=config.shard_max_receive,
        region=config.region,
    )
    # Called with endpoint=..., the @connections endpoint the shards' posts go to.
    dispatcher = providers.Selector(
        config.dispatch,
        sqs=providers.Factory(shards.sqs_dispatcher, client=sqs_client, queue_url=config.queue_url),
        local=providers.Factory(shards.local_dispatcher, queue=local_queue),
    )
    shard_policy = providers.ThreadSafeSingleton(
        ShardPolicy, threshold=config.shard_threshold, shard_size=config.shard_size
    )
    sharded_fanout = providers.Factory(
        ShardedFanout,
        store=store,
        reads=store,
        fanout=fanout,
        clock=clock,
        new_id=providers.Object(shards.new_broadcast_id),
        policy=shard_policy,
    )
    shard_worker = providers.Factory(
        ShardWorker,
        reads=store,
        fanout=fanout,
        progress=progress,
        clock=clock,
        batch_size=config.batch_size,
    )


def build(environ: Mapping[str, str] | None = None) -> Container:
    """A container configured from the environment (or the mapping given)."""
    container = Container()
    container.config.from_dict(Settings.from_environ(environ).as_dict())
    return container


_shared: Container | None = None
_shared_lock = threading.Lock()


def shared() -> Container:
    """The process's container, built once, so a warm Lambda reuses its clients; the message
    handler and the fan-out worker share it (under `serve`, they share the memory store).

    Lambda calls one invocation at a time, but the local gateway calls from many threads:
    without the lock, concurrent first calls would each build a container (and a store).
    """
    global _shared
    if _shared is None:
        with _shared_lock:
            if _shared is None:
                _shared = build()
    return _shared


def reset_shared(new: Container | None = None) -> None:
    """For tests and the local gateway: start from a fresh (or given) container."""
    global _shared
    _shared = new


def token_verifier(settings: AuthSettings) -> TokenVerifier:
    """The authorizer's verifier over the key source its settings name."""
    from adapters.tokens.jwt_tokens import JwtVerifier, jwks_key_source

    key_for: Callable[[str], Any]
    if settings.secret_parameter:
        import boto3

        from adapters.tokens.ssm_secret import SsmSecret

        ssm = boto3.client("ssm", region_name=settings.region)
        key_for = SsmSecret(ssm, settings.secret_parameter)
    elif settings.jwks_url:
        key_for = jwks_key_source(settings.jwks_url)
    else:
        key = settings.secret or settings.public_key
        key_for = lambda _token: key  # noqa: E731
    return JwtVerifier(key_for, settings.algorithm, settings.issuer, settings.audience)
