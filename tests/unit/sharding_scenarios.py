"""Random broadcasts for the partition property, and the check, for any store of ours."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from hypothesis import event
from hypothesis import strategies as st

from domain.model import Audience, FanoutResult
from domain.ports import Storage
from tests.doubles import FakePublisher

from .sharding_rig import CrashingPublisher, RecordingDispatcher, World

# API Gateway's ids are base64 (URL-safe alphabet); short ones collide in order more often.
connection_ids = st.text(alphabet="ABCXYZabcxyz0189-_", min_size=1, max_size=5).map(
    lambda s: s + "="
)


@dataclass(frozen=True)
class Scenario:
    members: dict[str, bool]  # id -> in the room
    expired: frozenset[str]
    late: dict[str, bool]  # connect after planning, before the workers: id -> in the room
    room: str | None  # None: everyone
    threshold: int
    shard_size: int
    batch_size: int
    crash_on: frozenset[int]
    crash_after_posting: bool

    def audience(self, connections: dict[str, bool]) -> set[str]:
        return {c for c, in_room in connections.items() if self.room is None or in_room}


@st.composite
def scenarios(draw: st.DrawFn, max_connections: int = 60) -> Scenario:
    n = draw(st.integers(0, max_connections))  # drawn first: lists alone stay short
    ids = draw(st.lists(connection_ids, unique=True, min_size=n, max_size=n))
    early, late = ids[: len(ids) * 4 // 5], ids[len(ids) * 4 // 5 :]
    in_room = st.booleans()
    return Scenario(
        members={c: draw(in_room) for c in early},
        expired=frozenset(draw(st.sets(st.sampled_from(early)))) if early else frozenset(),
        late={c: draw(in_room) for c in late},
        room=draw(st.sampled_from([None, "lobby"])),
        # Mostly below the audience's size, so that most examples shard.
        threshold=draw(st.integers(1, max(1, len(early) // 2)) | st.integers(1, 80)),
        shard_size=draw(st.integers(1, 15)),
        batch_size=draw(st.integers(1, 7)),
        crash_on=frozenset(draw(st.sets(st.integers(1, 12), max_size=3))),
        crash_after_posting=draw(st.booleans()),
    )


def check_partition(storage: Storage, s: Scenario) -> None:
    """Plan the broadcast, let connections arrive, run every shard (again after each crash):
    every live member hears it, non-members never do, and only a post whose outcome was
    unknown (the worker died after posting) is ever heard twice."""
    publisher = CrashingPublisher(s.crash_on, s.crash_after_posting)
    w = World(storage=storage, publisher=FakePublisher(), dispatcher=RecordingDispatcher())
    w.connect(*(c for c in s.members if c not in s.expired), rooms=["lobby"])
    w.connect(*s.expired, rooms=["lobby"], expired=True)
    for c, in_room in s.members.items():
        if not in_room:
            w.store.leave(c, "lobby")
    live = s.audience({c: r for c, r in s.members.items() if c not in s.expired})
    result = w.planner(s.threshold, s.shard_size).send(b"m", Audience(s.room))
    event("in-process" if isinstance(result, FanoutResult) else "sharded")
    if isinstance(result, FanoutResult):  # posted in-process: the audience as read then
        assert w.dispatcher.tasks == []
        assert w.received() == dict.fromkeys(live, 1)
        return
    assert result.shards == len(w.dispatcher.tasks) >= 1
    assert len({t.key for t in w.dispatcher.tasks}) == result.shards
    for c, in_room in s.late.items():
        w.connect(c, rooms=["lobby"] if in_room else [])
    w.publisher = publisher
    w.run_until_done(s.batch_size, max_deliveries=len(s.crash_on) + 1)
    event(f"crashes: {len(s.crash_on & set(range(1, next(publisher.calls))))}")
    heard = Counter({c: len(sent) for c, sent in publisher.sent.items() if sent})
    assert set(heard) == live | s.audience(s.late)
    assert {c for c, n in heard.items() if n > 1} <= publisher.unknown
