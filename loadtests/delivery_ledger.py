"""The delivery ledger: what each room was sent, who was in it when, and what each member got.

Pure bookkeeping (no I/O, no gevent), so the lost-message rule is unit-tested on its own.
Times are one process's monotonic seconds: the ledger is only sound when every sender and
receiver of a room live in the same locust process (run locust single-process).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Membership:
    """One connection's stay in one room, from the join's ack on."""

    room: str
    joined_at: float
    # Set when the member stops counting on deliveries: it decided to leave, or it dropped.
    expect_until: float | None = None
    received: set[str] = field(default_factory=set)
    duplicates: int = 0


@dataclass
class _RoomLog:
    times: list[float] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)


class Ledger:
    """Records sends, memberships, deliveries and errors; `summary()` counts what was lost."""

    def __init__(self) -> None:
        self._rooms: dict[str, _RoomLog] = defaultdict(_RoomLog)
        self._members: list[Membership] = []
        self._latencies_ms: list[float] = []
        self.errors: Counter[str] = Counter()
        self.received = 0

    def sent(self, room: str, msg_id: str, at: float) -> None:
        log = self._rooms[room]
        if log.times and at < log.times[-1]:
            raise ValueError(f"sends must be recorded in time order ({at} < {log.times[-1]})")
        log.times.append(at)
        log.ids.append(msg_id)

    def joined(self, room: str, at: float) -> Membership:
        member = Membership(room, at)
        self._members.append(member)
        return member

    def stop_expecting(self, member: Membership, at: float) -> None:
        if member.expect_until is None or at < member.expect_until:
            member.expect_until = at

    def delivered(self, member: Membership, msg_id: str, latency_ms: float) -> None:
        self.received += 1
        if msg_id in member.received:
            member.duplicates += 1
            return
        member.received.add(msg_id)
        self._latencies_ms.append(latency_ms)

    def error(self, kind: str) -> None:
        self.errors[kind] += 1

    def missing(self, ended: float) -> int:
        """Expected deliveries not (yet) received: what a drain at the end waits for."""
        return self._tally(ended)[1]

    def summary(self, started: float, ended: float) -> dict[str, Any]:
        """Counts over the sending window [started, ended]; call it once the drain is over."""
        expected, lost, lost_sample = self._tally(ended)
        seconds = max(ended - started, 1e-9)
        sent = sum(len(log.ids) for log in self._rooms.values())
        latencies = sorted(self._latencies_ms)
        return {
            "seconds": round(seconds, 3),
            "sent": sent,
            "expected": expected,
            "received": self.received,
            "lost": lost,
            "lost_sample": lost_sample,
            "duplicates": sum(m.duplicates for m in self._members),
            "sent_per_s": round(sent / seconds, 1),
            "received_per_s": round(self.received / seconds, 1),
            "latency_ms": {f"p{q}": percentile(latencies, q) for q in (50, 95, 99)}
            | {"max": round(latencies[-1], 1) if latencies else None},
            "errors": sum(self.errors.values()),
            "errors_by_kind": dict(self.errors),
            "memberships": len(self._members),
        }

    def _tally(self, ended: float) -> tuple[int, int, list[str]]:
        """Expected: each message sent to a room from a member's join until it stopped expecting
        (or sending ended); lost: those of them it never received."""
        expected = lost = 0
        lost_sample: list[str] = []
        for member in self._members:
            log = self._rooms.get(member.room)
            if log is None:
                continue
            cutoff = ended if member.expect_until is None else min(ended, member.expect_until)
            first = bisect_left(log.times, member.joined_at)
            last = bisect_right(log.times, cutoff)
            for msg_id in log.ids[first:last]:
                expected += 1
                if msg_id not in member.received:
                    lost += 1
                    if len(lost_sample) < 10:
                        lost_sample.append(f"{member.room}/{msg_id}")
        return expected, lost, lost_sample


def percentile(ordered: list[float], q: float) -> float | None:
    """Nearest-rank percentile of an ascending list; None when it is empty."""
    if not ordered:
        return None
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return round(ordered[rank - 1], 1)
