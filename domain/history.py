"""Each room's order and history: a seq per message (1, 2, 3 ... per room, never shared, never
skipped among stored messages), the last `size` messages kept for `ttl` seconds, so a client
that reconnects can ask for what it missed.

A message's seq comes from an atomic per-room counter; its envelope (domain/frames.py), seq
included, is stored as the very bytes its recipients got, and replayed as they are. A room's
history is logically its last `size` messages: older ones are never replayed, even while the
store still holds them (DynamoDB's TTL deletes them within about two days of their expiry).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HistoryPolicy:
    """How much of each room's history is kept: the last `size` messages, for `ttl` seconds."""

    size: int = 100
    ttl: float = 600.0

    def __post_init__(self) -> None:
        if self.size < 1:
            raise ValueError(f"the history keeps at least 1 message, not {self.size}")
        if self.ttl <= 0:
            raise ValueError(f"the history keeps messages for more than 0 s, not {self.ttl}")

    def first_kept(self, last: int) -> int:
        """The oldest seq the history still holds when the room's latest is `last`."""
        return max(1, last - self.size + 1)

    def can_replay(self, after: int, last: int) -> bool:
        """Whether the messages after `after` are all within the kept window (before expiry)."""
        return after <= last and after + 1 >= self.first_kept(last)


@dataclass(frozen=True)
class Appended:
    """Where a message went: its seq, and whether it was a duplicate of one stored before (the
    same id from the same sender within the history window), which is delivered no more."""

    seq: int
    duplicate: bool = False
