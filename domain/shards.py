"""Shards of a broadcast: which part of its audience one fan-out worker posts to, how far it got.

A shard names a part of the audience, never a list of ids: a shard message stays small whatever
the audience, and parts partition it, so every connection falls in exactly one part, even one
that connects while the broadcast runs.

- Everyone is split into `count` parts (EveryonePart). The store decides which connections fall
  in which part, the same way every time it is asked.
- A room is split into ranges of member ids (RoomPart), which partition the id space.

A worker reads its part in an order the store fixes for it and resumes after a Cursor: the last
connection it settled. Each store maps parts and cursors onto its own technology
(adapters/dynamodb: a parallel Scan's segments and its ExclusiveStartKey, the room index's key
condition; adapters/memory: hash buckets and positions in a sorted list).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.model import FanoutResult

# Where a read of a part stopped: the id of the last connection settled. A part's read resumes
# after it, even when that connection has gone since.
Cursor = str


@dataclass(frozen=True)
class EveryonePart:
    """Part `index` (from 0) of `count` parts of everyone."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(f"everyone splits into at least 1 part, not {self.count}")
        if not 0 <= self.index < self.count:
            raise ValueError(f"a part's index must be in [0, {self.count}), not {self.index}")


@dataclass(frozen=True)
class RoomPart:
    """The members of `room` whose id is in (after, upto]; None leaves that end open."""

    room: str
    after: str | None = None
    upto: str | None = None

    def __post_init__(self) -> None:
        if self.after is not None and self.upto is not None and not self.after < self.upto:
            raise ValueError(f"an empty range: ({self.after!r}, {self.upto!r}]")

    def holds(self, connection_id: str) -> bool:
        """True when the id falls in this part's range."""
        return (self.after is None or connection_id > self.after) and (
            self.upto is None or connection_id <= self.upto
        )


Part = EveryonePart | RoomPart


@dataclass(frozen=True)
class ShardTask:
    """One worker's job: post `payload` (exactly the protocol's bytes) to one part."""

    broadcast_id: str
    index: int
    part: Part
    payload: bytes

    @property
    def key(self) -> str:
        """Names the shard's progress: the same on every delivery of the same task."""
        return f"{self.broadcast_id}/{self.index}"


@dataclass(frozen=True)
class Checkpoint:
    """How far a shard got: the last connection settled, in the part's read order."""

    cursor: Cursor | None = None
    # Counts so far, over every attempt (without ids).
    settled: FanoutResult = field(default_factory=FanoutResult)
    done: bool = False


@dataclass(frozen=True)
class ShardReport:
    """What a worker did for one task: counts over every attempt, and whether it finished."""

    task: ShardTask
    result: FanoutResult
    complete: bool
    resumed_after: Cursor | None = None  # the cursor this attempt started after, if any
    # This attempt alone, failed ids included.
    attempt_result: FanoutResult = field(default_factory=FanoutResult)


@dataclass(frozen=True)
class Dispatched:
    """A broadcast handed to workers: how many shards, and how many recipients planning saw."""

    broadcast_id: str
    shards: int
    seen: int  # a room's members as read while planning; for everyone, a lower bound
