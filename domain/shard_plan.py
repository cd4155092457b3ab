"""Sharded broadcast: post in-process up to a threshold; above it, hand shards to workers.

The recipients are read lazily. When the read ends within the threshold, the ids already read
are posted here, as an unsharded broadcast is. Above it, nothing is posted here:

- everyone: shards are the parts of everyone (domain/shards.py). Their number is
  ceil(estimate / shard_size), the estimate being the store's or the ids already seen,
  whichever is higher. Parts partition everyone whatever their number, so a stale estimate
  costs balance between workers, never coverage.
- a room: shards are ranges of member ids, (None, b1], (b1, b2], ..., (bk, None), with a
  boundary every `shard_size` members of an ascending read. The ranges partition the id space,
  so a member that joins meanwhile still falls in exactly one of them. Tasks are dispatched
  while the read goes on, so the first workers start before the last page is read.

Sharded broadcasts are at-least-once: a shard redelivered after a crash re-posts the
connections whose outcome its checkpoint had not recorded (domain/shard_worker.py), and a
queue may deliver a shard twice. Payloads stay exactly what the protocol says, so clients that
must not see a duplicate carry their own id in the data. Shards of one broadcast, and of
different broadcasts, run side by side: a client may hear two broadcasts in either order.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import chain, islice

from domain.fanout import Fanout
from domain.model import Audience, FanoutResult
from domain.ports import AudienceReads, Clock, ConnectionStore, ShardDispatcher
from domain.shards import Dispatched, EveryonePart, RoomPart, ShardTask


@dataclass(frozen=True)
class ShardPolicy:
    """When a broadcast is sharded (more than `threshold` recipients), and how finely."""

    threshold: int = 2000
    shard_size: int = 1000  # connections per shard (for everyone: on average)

    def __post_init__(self) -> None:
        if self.threshold < 1:
            raise ValueError(f"threshold must be at least 1, not {self.threshold}")
        if self.shard_size < 1:
            raise ValueError(f"shard_size must be at least 1, not {self.shard_size}")


class ShardedFanout:
    """The message handler's side of a broadcast: post it, or split it and dispatch shards."""

    def __init__(
        self,
        store: ConnectionStore,
        reads: AudienceReads,
        fanout: Fanout,
        dispatcher: ShardDispatcher,
        clock: Clock,
        new_id: Callable[[], str],
        policy: ShardPolicy | None = None,
    ) -> None:
        self._store = store
        self._reads = reads
        self._fanout = fanout
        self._dispatcher = dispatcher
        self._clock = clock
        self._new_id = new_id
        self._policy = policy or ShardPolicy()

    def send(self, payload: bytes, audience: Audience) -> FanoutResult | Dispatched:
        """Raises DispatchError when some shards could not be handed over (the rest were)."""
        now = self._clock.now()
        if audience.room is None:
            recipients = self._store.connection_ids(now)
        else:  # ascending: the same read both decides and, above the threshold, plans
            recipients = self._reads.part_ids(RoomPart(audience.room), now)
        head = list(islice(recipients, self._policy.threshold + 1))
        if len(head) <= self._policy.threshold:
            return self._fanout.send(payload, head)
        broadcast_id = self._new_id()
        if audience.room is None:
            tasks = self._segments(broadcast_id, payload, len(head))
            return Dispatched(broadcast_id, self._dispatcher.dispatch(tasks), len(head))
        counted = _Counted(chain(head, recipients))
        tasks = room_tasks(broadcast_id, payload, audience.room, counted, self._policy.shard_size)
        return Dispatched(broadcast_id, self._dispatcher.dispatch(tasks), counted.count)

    def _segments(self, broadcast_id: str, payload: bytes, seen: int) -> Iterator[ShardTask]:
        estimate = max(self._reads.audience_estimate(self._clock.now()), seen)
        count = math.ceil(estimate / self._policy.shard_size)
        for index in range(count):
            yield ShardTask(broadcast_id, index, EveryonePart(index, count), payload)


def room_tasks(
    broadcast_id: str, payload: bytes, room: str, ascending_ids: Iterator[str], shard_size: int
) -> Iterator[ShardTask]:
    """Ranges of `shard_size` members each, the last one open-ended and never empty of
    members seen (it takes the 1 to shard_size ids after the last boundary)."""
    after: str | None = None
    last: str | None = None
    count = index = 0
    for connection_id in ascending_ids:
        if count == shard_size:  # a full range lies behind, and more follows: close it
            yield ShardTask(broadcast_id, index, RoomPart(room, after, last), payload)
            index, after, count = index + 1, last, 0
        count += 1
        last = connection_id
    yield ShardTask(broadcast_id, index, RoomPart(room, after, None), payload)


class _Counted(Iterator[str]):
    """Counts what passes through, so the planner can report the room's size afterwards."""

    def __init__(self, ids: Iterator[str]) -> None:
        self._ids = ids
        self.count = 0

    def __next__(self) -> str:
        value = next(self._ids)
        self.count += 1
        return value
