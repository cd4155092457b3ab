"""The use cases per @connections endpoint, built once per container and endpoint: a warm Lambda
reuses them, and what only some routes use (the publisher, the dispatcher) is built when first
used, so a cold start that begins with $connect pays for neither."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from domain.model import PostOutcome
from domain.ports import Publisher, ShardDispatcher
from domain.service import Switchboard

if TYPE_CHECKING:
    from domain.shards import ShardTask
    from entrypoints.composition.container import Container
    from entrypoints.composition.publishers import Publishers

_built: tuple[Container | None, dict[str, Switchboard]] = (None, {})


def for_endpoint(c: Container, endpoint: str) -> Switchboard:
    """The use cases whose posts go to `endpoint`."""
    global _built
    built_for, services = _built
    if built_for is not c:  # a new container (tests, the local gateway): start over
        services = {}
        _built = (c, services)
    service = services.get(endpoint)
    if service is None:  # two threads may both build one: equal, and the last is kept
        service = services[endpoint] = _build(c, endpoint)
    return service


def _build(c: Container, endpoint: str) -> Switchboard:
    fanout = c.fanout(publisher=_DeferredPublisher(c.publishers(), endpoint))
    if c.config.dispatch() == "off":
        return c.switchboard(fanout=fanout)
    dispatcher = _DeferredDispatcher(c, endpoint)
    sharding = c.sharded_fanout(fanout=fanout, dispatcher=dispatcher)
    return c.switchboard(fanout=fanout, sharding=sharding)


class _DeferredPublisher(Publisher):
    """Builds the endpoint's publisher on the first post: $connect and $disconnect never post."""

    def __init__(self, publishers: Publishers, endpoint: str) -> None:
        self._publishers = publishers
        self._endpoint = endpoint

    def post(self, payload: bytes, connection_ids: Sequence[str]) -> Mapping[str, PostOutcome]:
        return self._publishers.for_endpoint(self._endpoint).post(payload, connection_ids)

    def disconnect(self, connection_id: str) -> PostOutcome:
        return self._publishers.for_endpoint(self._endpoint).disconnect(connection_id)


class _DeferredDispatcher(ShardDispatcher):
    """Builds the dispatcher (an SQS client) on the first sharded broadcast only."""

    def __init__(self, c: Container, endpoint: str) -> None:
        self._container = c
        self._endpoint = endpoint

    def dispatch(self, tasks: Iterable[ShardTask]) -> int:
        dispatcher: ShardDispatcher = self._container.dispatcher(endpoint=self._endpoint)
        return dispatcher.dispatch(tasks)
