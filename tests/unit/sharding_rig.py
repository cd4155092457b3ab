"""Test rig for sharded broadcasts: a store, a fake publisher, a queue that records tasks."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from adapters import memory
from domain.errors import DispatchError
from domain.fanout import Fanout, RetryPolicy
from domain.limits import MAX_CONNECTION_SECONDS
from domain.model import Connection, PostOutcome
from domain.ports import AudienceReads, ConnectionStore, ShardDispatcher, ShardProgress, Storage
from domain.service import Switchboard
from domain.shard_plan import ShardedFanout, ShardPolicy
from domain.shard_worker import ShardWorker
from domain.shards import ShardReport, ShardTask
from tests.doubles import FakeClock, FakePublisher


class RecordingDispatcher(ShardDispatcher):
    """Keeps every task; with `refuse_from`, refuses the tasks from that index on."""

    def __init__(self, refuse_from: int | None = None) -> None:
        self.tasks: list[ShardTask] = []
        self.refuse_from = refuse_from

    def dispatch(self, tasks: Iterable[ShardTask]) -> int:
        refused = 0
        for task in tasks:
            if self.refuse_from is not None and task.index >= self.refuse_from:
                refused += 1
            else:
                self.tasks.append(task)
        if refused:
            raise DispatchError(len(self.tasks), refused, "queue unavailable")
        return len(self.tasks)


class CrashingPublisher(FakePublisher):
    """Dies (raises) on the post calls listed in `crash_on` (1 = the first): before posting,
    or after posting when `after_posting` (then the outcomes are unknown to the worker)."""

    def __init__(self, crash_on: Iterable[int] = (), after_posting: bool = False) -> None:
        super().__init__()
        self.crash_on = set(crash_on)
        self.after_posting = after_posting
        self.calls = itertools.count(1)
        self.unknown: set[str] = set()  # posted, but the worker died before hearing so

    def post(self, payload: bytes, connection_ids: Sequence[str]) -> Mapping[str, PostOutcome]:
        if next(self.calls) not in self.crash_on:
            return super().post(payload, connection_ids)
        if self.after_posting:
            super().post(payload, connection_ids)
            self.unknown.update(connection_ids)
        raise RuntimeError("the worker died")


@dataclass
class World:
    """One storage, publisher and clock, shared by planner and workers."""

    storage: Storage = field(default_factory=memory.open_storage)
    publisher: FakePublisher = field(default_factory=FakePublisher)
    clock: FakeClock = field(default_factory=FakeClock)
    dispatcher: RecordingDispatcher = field(default_factory=RecordingDispatcher)
    ids: itertools.count[int] = field(default_factory=itertools.count)

    @property
    def store(self) -> ConnectionStore:
        return self.storage.connections

    @property
    def audience(self) -> AudienceReads:
        return self.storage.audience

    @property
    def progress(self) -> ShardProgress:
        return self.storage.progress

    def connect(
        self, *connection_ids: str, rooms: Iterable[str] = (), expired: bool = False
    ) -> None:
        at = self.clock.now() - (MAX_CONNECTION_SECONDS + 1 if expired else 0)
        for cid in connection_ids:
            self.store.add(Connection.open(cid, int(at * 1000)))
            for room in rooms:
                self.store.join(cid, room, 100)

    def fanout(self, batch_size: int = 1000) -> Fanout:
        policy = RetryPolicy(max_attempts=3, base_delay=0.01, deadline=1.0)
        return Fanout(self.store, self.publisher, self.clock, policy, batch_size=batch_size)

    def planner(self, threshold: int, shard_size: int) -> ShardedFanout:
        return ShardedFanout(
            self.store,
            self.audience,
            self.fanout(),
            self.dispatcher,
            self.clock,
            lambda: f"b{next(self.ids)}",
            ShardPolicy(threshold, shard_size),
        )

    def board(self, threshold: int, shard_size: int) -> Switchboard:
        sharding = self.planner(threshold, shard_size)
        return Switchboard(self.store, self.fanout(), self.clock, sharding)

    def worker(self, batch_size: int = 3) -> ShardWorker:
        return ShardWorker(self.audience, self.fanout(), self.progress, self.clock, batch_size)

    def run_all(self, batch_size: int = 3) -> list[ShardReport]:
        """Every recorded task, once each, to completion."""
        worker = self.worker(batch_size)
        return [worker.run(task) for task in self.dispatcher.tasks]

    def run_until_done(self, batch_size: int, max_deliveries: int) -> None:
        """Every task, delivered again after each crash (as SQS would), up to a bound."""
        worker = self.worker(batch_size)
        for task in self.dispatcher.tasks:
            for _ in range(max_deliveries):
                try:
                    if worker.run(task).complete:
                        break
                except RuntimeError:
                    continue
            else:
                raise AssertionError(f"shard {task.key} not done after {max_deliveries} tries")

    def received(self) -> dict[str, int]:
        """How many payloads each connection got."""
        return {cid: len(sent) for cid, sent in self.publisher.sent.items() if sent}
