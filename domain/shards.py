"""Shards of a broadcast: which connections one fan-out worker posts to, and how far it got.

A shard names a part of the key space, never a list of ids: a parallel Scan segment of the
table (for everyone) or a range of ids in the room index (for a room). Parts of a key space
partition it, so every connection falls in exactly one shard, even one that connects while
the broadcast runs, and a shard message stays small whatever the audience.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.model import FanoutResult


@dataclass(frozen=True)
class ScanSegment:
    """Segment `segment` of a parallel Scan in `total` (DynamoDB's Segment, TotalSegments)."""

    segment: int
    total: int

    def __post_init__(self) -> None:
        if self.total < 1:
            raise ValueError(f"a scan needs at least 1 segment, not {self.total}")
        if not 0 <= self.segment < self.total:
            raise ValueError(f"segment must be in [0, {self.total}), not {self.segment}")


@dataclass(frozen=True)
class RoomRange:
    """The members of `room` whose id is in (after, upto]; None leaves that end open."""

    room: str
    after: str | None = None
    upto: str | None = None

    def __post_init__(self) -> None:
        if self.after is not None and self.upto is not None and not self.after < self.upto:
            raise ValueError(f"an empty range: ({self.after!r}, {self.upto!r}]")


Shard = ScanSegment | RoomRange


@dataclass(frozen=True)
class ShardTask:
    """One worker's job: post `payload` (exactly the protocol's bytes) to one shard."""

    broadcast_id: str
    index: int
    shard: Shard
    payload: bytes

    @property
    def key(self) -> str:
        """Names the shard's progress: the same on every delivery of the same task."""
        return f"{self.broadcast_id}/{self.index}"


@dataclass(frozen=True)
class Checkpoint:
    """How far a shard got: the last connection settled, in the shard's read order."""

    cursor: str | None = None
    # Counts so far, over every attempt (without ids).
    settled: FanoutResult = field(default_factory=FanoutResult)
    done: bool = False


@dataclass(frozen=True)
class ShardReport:
    """What a worker did for one task: counts over every attempt, and whether it finished."""

    task: ShardTask
    result: FanoutResult
    complete: bool
    resumed_after: str | None = None  # the cursor this attempt started after, if any
    # This attempt alone, failed ids included.
    attempt_result: FanoutResult = field(default_factory=FanoutResult)


@dataclass(frozen=True)
class Dispatched:
    """A broadcast handed to workers: how many shards, and how many recipients planning saw."""

    broadcast_id: str
    shards: int
    seen: int  # a room's members as read while planning; for everyone, a lower bound
