"""The message handler's side of a broadcast: post it here, or split it into shards."""

from __future__ import annotations

import json

import pytest

from domain.model import Audience, FanoutResult
from domain.shard_plan import ShardPolicy
from domain.shards import Dispatched, EveryonePart, RoomPart

from .sharding_rig import RecordingDispatcher, World


def ids(n: int, prefix: str = "c") -> list[str]:
    return [f"{prefix}{i:04d}=" for i in range(n)]


def test_an_audience_within_the_threshold_is_posted_in_process() -> None:
    w = World()
    w.connect(*ids(10))
    result = w.planner(threshold=10, shard_size=3).send(b"hi", Audience())
    assert isinstance(result, FanoutResult)
    assert (result.recipients, result.delivered) == (10, 10)
    assert w.dispatcher.tasks == []
    assert w.received() == dict.fromkeys(ids(10), 1)


def test_everyone_above_the_threshold_becomes_parts_and_nothing_is_posted_here() -> None:
    w = World()
    w.connect(*ids(25))
    result = w.planner(threshold=10, shard_size=4).send(b"hi", Audience())
    assert result == Dispatched("b0", 7, 11)  # ceil(25 / 4) parts; 11 ids read to decide
    assert w.received() == {}
    assert [t.part for t in w.dispatcher.tasks] == [EveryonePart(s, 7) for s in range(7)]
    assert {(t.broadcast_id, t.payload) for t in w.dispatcher.tasks} == {("b0", b"hi")}
    assert [t.index for t in w.dispatcher.tasks] == list(range(7))


def test_the_part_count_uses_the_ids_seen_when_the_estimate_is_low() -> None:
    w = World()
    w.connect(*ids(30))
    w.connect(*ids(30, "old"), expired=True)  # counted by the estimate, not live
    result = w.planner(threshold=20, shard_size=10).send(b"x", Audience())
    assert isinstance(result, Dispatched)
    assert result.shards == 6  # the estimate (60 records) beats the 21 ids seen


def test_a_room_above_the_threshold_becomes_contiguous_id_ranges() -> None:
    w = World()
    members = ids(10)
    w.connect(*members, rooms=["lobby"])
    w.connect(*ids(5, "z"))  # not in the room
    result = w.planner(threshold=3, shard_size=4).send(b"r", Audience("lobby"))
    assert result == Dispatched("b0", 3, 10)
    assert [t.part for t in w.dispatcher.tasks] == [
        RoomPart("lobby", None, members[3]),
        RoomPart("lobby", members[3], members[7]),
        RoomPart("lobby", members[7], None),
    ]


def test_a_room_of_an_exact_multiple_has_no_empty_last_range() -> None:
    w = World()
    members = ids(8)
    w.connect(*members, rooms=["lobby"])
    w.planner(threshold=1, shard_size=4).send(b"r", Audience("lobby"))
    assert [t.part for t in w.dispatcher.tasks] == [
        RoomPart("lobby", None, members[3]),
        RoomPart("lobby", members[3], None),
    ]


def test_a_sharded_message_reports_the_dispatch_and_posts_nothing_to_the_sender() -> None:
    w = World()
    w.connect(*ids(6))
    outcome = w.board(threshold=5, shard_size=2).on_message("c0000=", "$default", "hello")
    assert outcome.sharded == Dispatched("b0", 3, 6)
    assert outcome.broadcast is None and outcome.error is None
    w.run_all()
    assert w.received() == dict.fromkeys(ids(6), 1)
    assert {bytes(p) for sent in w.publisher.sent.values() for p in sent} == {b"hello"}


def test_shards_the_queue_refused_are_reported_to_the_sender() -> None:
    w = World(dispatcher=RecordingDispatcher(refuse_from=1))
    w.connect(*ids(6))
    outcome = w.board(threshold=5, shard_size=2).on_message("c0000=", "$default", "hello")
    assert outcome.error == "broadcast_incomplete"
    [error] = w.publisher.sent["c0000="]
    assert json.loads(error)["error"] == "broadcast_incomplete"
    assert "1 of 3 shards were queued" in json.loads(error)["message"]


@pytest.mark.parametrize(("threshold", "shard_size"), [(0, 1), (1, 0), (-3, 10)])
def test_a_policy_needs_positive_bounds(threshold: int, shard_size: int) -> None:
    with pytest.raises(ValueError, match="must be at least 1"):
        ShardPolicy(threshold, shard_size)


def test_shards_refuse_impossible_parts() -> None:
    with pytest.raises(ValueError, match=r"index must be in \[0, 3\)"):
        EveryonePart(3, 3)
    with pytest.raises(ValueError, match="at least 1 part"):
        EveryonePart(0, 0)
    with pytest.raises(ValueError, match="an empty range"):
        RoomPart("lobby", "b=", "a=")
