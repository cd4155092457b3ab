"""The fan-out worker: one shard, in batches, resumable after its last checkpoint."""

from __future__ import annotations

import pytest

from adapters.memory.progress import MemoryProgress
from domain.model import FanoutResult
from domain.shards import Checkpoint, EveryonePart, RoomPart, ShardTask

from .sharding_rig import CrashingPublisher, World


def ids(n: int, prefix: str = "c") -> list[str]:
    return [f"{prefix}{i:04d}=" for i in range(n)]


def everyone(index: int = 0, total: int = 1, payload: bytes = b"hi") -> ShardTask:
    return ShardTask("b1", index, EveryonePart(index, total), payload)


def test_a_segment_is_posted_once_each_with_a_checkpoint_after_every_batch() -> None:
    w = World()
    w.connect(*ids(7))
    report = w.worker(batch_size=3).run(everyone())
    assert report.complete and report.resumed_after is None
    assert (report.result.recipients, report.result.delivered) == (7, 7)
    assert w.received() == dict.fromkeys(ids(7), 1)
    assert w.progress.load("b1/0") == Checkpoint("c0006=", report.result, done=True)


def test_segments_of_one_broadcast_reach_everyone_once() -> None:
    w = World()
    w.connect(*ids(40))
    reports = [w.worker().run(everyone(s, 4)) for s in range(4)]
    assert sum(r.result.delivered for r in reports) == 40
    assert w.received() == dict.fromkeys(ids(40), 1)


def test_a_room_range_reaches_only_its_members_in_the_range() -> None:
    w = World()
    w.connect(*ids(10), rooms=["lobby"])
    w.connect(*ids(3, "x"))
    task = ShardTask("b1", 1, RoomPart("lobby", "c0002=", "c0006="), b"r")
    w.worker().run(task)
    assert w.received() == dict.fromkeys(["c0003=", "c0004=", "c0005=", "c0006="], 1)


def test_a_shard_that_died_resumes_after_its_last_checkpoint() -> None:
    w = World(publisher=CrashingPublisher(crash_on=[3]))
    w.connect(*ids(10))
    with pytest.raises(RuntimeError, match="the worker died"):
        w.worker(batch_size=3).run(everyone())
    assert w.progress.load("b1/0") == Checkpoint("c0005=", FanoutResult(6, 6))
    report = w.worker(batch_size=3).run(everyone())  # the queue delivers it again
    assert report.complete and report.resumed_after == "c0005="
    assert report.result == FanoutResult(10, 10)
    assert report.attempt_result == FanoutResult(4, 4)
    # The batch in flight when it died had posted nothing: no one hears it twice.
    assert w.received() == dict.fromkeys(ids(10), 1)


def test_a_finished_shard_delivered_again_posts_nothing() -> None:
    w = World()
    w.connect(*ids(4))
    first = w.worker().run(everyone())
    again = w.worker().run(everyone())
    assert again.complete and again.result == first.result
    assert w.received() == dict.fromkeys(ids(4), 1)


def test_a_worker_short_of_time_stops_between_batches_and_the_next_attempt_finishes() -> None:
    w = World()
    w.connect(*ids(9))
    first = w.worker(batch_size=2).run(everyone(), should_stop=lambda: True)
    assert not first.complete
    assert first.attempt_result.delivered == 2  # one batch, always, so that retries progress
    second = w.worker(batch_size=2).run(everyone())
    assert second.complete and second.result.delivered == 9
    assert w.received() == dict.fromkeys(ids(9), 1)


def test_gone_connections_are_pruned_and_counted_per_shard() -> None:
    w = World()
    w.connect(*ids(5), rooms=["lobby"])
    w.publisher.mark_gone("c0001=", "c0003=")
    report = w.worker().run(ShardTask("b1", 0, RoomPart("lobby"), b"r"))
    assert (report.result.delivered, report.result.pruned) == (3, 2)
    assert w.store.get("c0001=") is None
    assert list(w.store.room_member_ids("lobby", w.clock.now())) != []


def test_a_member_who_left_before_the_worker_ran_is_not_posted_to() -> None:
    w = World()
    w.connect(*ids(4), rooms=["lobby"])
    w.store.leave("c0002=", "lobby")
    w.worker().run(ShardTask("b1", 0, RoomPart("lobby"), b"r"))
    assert set(w.received()) == {"c0000=", "c0001=", "c0003="}


def test_memory_progress_forgets_the_oldest_shards_past_its_limit() -> None:
    progress = MemoryProgress(limit=2)
    for key in ("a/0", "a/1", "a/2"):
        progress.save(key, Checkpoint("x=", done=True))
    assert progress.load("a/0") is None
    assert progress.load("a/2") == Checkpoint("x=", done=True)
    with pytest.raises(ValueError, match="at least 1"):
        MemoryProgress(limit=0)
