"""The container: providers for every port, configured from the environment, built once a process.

One line per storage technology: a store package's `open_storage` provides every storage port.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from dependency_injector import containers, providers

from adapters import dynamodb, memory
from adapters.apigateway import local_endpoints
from adapters.clock import SystemClock
from domain.budget import MessageBudget
from domain.fanout import Fanout, RetryPolicy
from domain.history import HistoryPolicy
from domain.outcomes import Limits
from domain.service import Switchboard
from entrypoints.composition import publishers as publishing
from entrypoints.composition import sharding
from entrypoints.composition.settings import Settings


class Container(containers.DeclarativeContainer):
    config = providers.Configuration()

    clock = providers.ThreadSafeSingleton(SystemClock)
    storage = providers.Selector(
        config.store,
        memory=providers.ThreadSafeSingleton(memory.open_storage),
        dynamodb=providers.ThreadSafeSingleton(
            dynamodb.open_storage,
            region=config.region,
            endpoint=config.dynamodb_endpoint,
            table_name=config.table,
        ),
    )
    store = storage.provided.connections
    audience = storage.provided.audience
    progress = storage.provided.progress
    budgets = storage.provided.budgets
    logs = storage.provided.logs

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
    budget = providers.ThreadSafeSingleton(
        MessageBudget, rate=config.message_rate, burst=config.message_burst
    )
    history = providers.ThreadSafeSingleton(
        HistoryPolicy, size=config.history_size, ttl=config.history_ttl
    )
    limits = providers.ThreadSafeSingleton(
        Limits,
        max_rooms=config.max_rooms,
        budget=budget,
        history=history,
        presence_events_max=config.presence_events_max,
    )
    switchboard = providers.Factory(
        Switchboard,
        store=store,
        fanout=fanout,
        clock=clock,
        budgets=budgets,
        limits=limits,
        logs=logs,
    )

    # Sharded broadcasts. Called with endpoint=..., the @connections endpoint shards post to.
    sqs_client = providers.ThreadSafeSingleton(sharding.sqs_client, region=config.region)
    dispatcher = providers.Selector(
        config.dispatch,
        sqs=providers.Factory(
            sharding.sqs_dispatcher, client=sqs_client, queue_url=config.queue_url
        ),
        local=providers.Factory(sharding.local_dispatcher),
    )
    sharded_fanout = providers.Factory(
        sharding.sharded_fanout,
        store=store,
        reads=audience,
        fanout=fanout,
        clock=clock,
        threshold=config.shard_threshold,
        shard_size=config.shard_size,
    )
    shard_worker = providers.Factory(
        sharding.shard_worker,
        reads=audience,
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
