"""The delivery ledger: what each room was sent, who was in it when, and what each member got.
Long (~185 lines): the lost-message rule and the recovery rule (watermark, gaps) in one place.

Pure bookkeeping (no I/O, no gevent), so the rules are unit-tested on their own. A delivery is
counted by the message's id (the sender's, carried back in the envelope), so a message the
server accepted but never stored is lost; its seq gives each member a watermark (the highest
seq up to which it has everything), what a member that reconnects joins with as `since`.
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
    """One member's stay in one room, from the join's ack on: one connection's, or (recovery)
    every connection's of a user that reconnects and rejoins with `since`."""

    room: str
    joined_at: float
    # Everything up to the seq of the first join's ack is not this member's to expect.
    watermark: int = 0
    # Set when the member stops counting on deliveries: it decided to leave, or it dropped.
    expect_until: float | None = None
    received: set[str] = field(default_factory=set)
    seqs: set[int] = field(default_factory=set)
    # (since, seq) of each rejoin answered recovered:false: seqs in between will never come.
    gaps: list[tuple[int, int]] = field(default_factory=list)
    duplicates: int = 0

    def advance(self) -> None:
        while self.watermark + 1 in self.seqs:
            self.watermark += 1

    def in_gap(self, seq: int) -> bool:
        return any(since < seq <= last for since, last in self.gaps)


@dataclass
class _RoomLog:
    times: list[float] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    seq_of: dict[str, int] = field(default_factory=dict)  # learned from any member's delivery


class Ledger:
    """Records sends, memberships, deliveries, rejoins and errors; `summary()` counts the lost."""

    def __init__(self) -> None:
        self._rooms: dict[str, _RoomLog] = defaultdict(_RoomLog)
        self._members: list[Membership] = []
        self._latencies_ms: list[float] = []
        self._rejoin_ms: list[float] = []
        self.rejoins: Counter[bool] = Counter()
        self.errors: Counter[str] = Counter()
        self.received = self.replayed = 0

    def sent(self, room: str, msg_id: str, at: float) -> None:
        log = self._rooms[room]
        if log.times and at < log.times[-1]:
            raise ValueError(f"sends must be recorded in time order ({at} < {log.times[-1]})")
        log.times.append(at)
        log.ids.append(msg_id)

    def joined(self, room: str, at: float, seq: int = 0) -> Membership:
        member = Membership(room, at, watermark=seq)
        self._members.append(member)
        return member

    def rejoined(
        self, member: Membership, since: int, seq: int, recovered: bool, latency_ms: float
    ) -> None:
        """A rejoin's ack: recovered, the messages after `since` follow; if not, those up to
        `seq` never will (unrecoverable) and the watermark moves past them."""
        self.rejoins[recovered] += 1
        self._rejoin_ms.append(latency_ms)
        if not recovered:
            member.gaps.append((since, seq))
            member.watermark = max(member.watermark, seq)
            member.advance()

    def stop_expecting(self, member: Membership, at: float) -> None:
        if member.expect_until is None or at < member.expect_until:
            member.expect_until = at

    def delivered(
        self,
        member: Membership,
        msg_id: str,
        seq: int | None,
        latency_ms: float,
        replayed: bool = False,
    ) -> None:
        self.received += 1
        self.replayed += replayed
        if msg_id in member.received or (seq is not None and seq in member.seqs):
            member.duplicates += 1
            return
        member.received.add(msg_id)
        if seq is not None:
            self._rooms[member.room].seq_of[msg_id] = seq
            member.seqs.add(seq)
            member.advance()
        if not replayed:  # a replay's latency is the outage's, not the delivery's
            self._latencies_ms.append(latency_ms)

    def error(self, kind: str) -> None:
        self.errors[kind] += 1

    def missing(self, ended: float) -> int:
        """Expected deliveries not (yet) received: what a drain at the end waits for."""
        return self._tally(ended)[1]

    def summary(self, started: float, ended: float) -> dict[str, Any]:
        """Counts over the sending window [started, ended]; call it once the drain is over."""
        expected, lost, unrecoverable, lost_sample = self._tally(ended)
        seconds = max(ended - started, 1e-9)
        sent = sum(len(log.ids) for log in self._rooms.values())
        return {
            "seconds": round(seconds, 3),
            "sent": sent,
            "expected": expected,
            "received": self.received,
            "lost": lost,
            "lost_sample": lost_sample,
            "unrecoverable": unrecoverable,
            "duplicates": sum(m.duplicates for m in self._members),
            "sent_per_s": round(sent / seconds, 1),
            "received_per_s": round(self.received / seconds, 1),
            "latency_ms": percentiles(self._latencies_ms),
            "rejoins": {"recovered": self.rejoins[True], "not_recovered": self.rejoins[False]},
            "rejoin_ms": percentiles(self._rejoin_ms),
            "replayed": self.replayed,
            "errors": sum(self.errors.values()),
            "errors_by_kind": dict(self.errors),
            "memberships": len(self._members),
        }

    def _tally(self, ended: float) -> tuple[int, int, int, list[str]]:
        """Expected: each message sent to a room from a member's join until it stopped expecting
        (or sending ended). Of those it never received: unrecoverable, when some member saw it
        at a seq inside one of its recovered:false gaps; lost, otherwise."""
        expected = lost = unrecoverable = 0
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
                if msg_id in member.received:
                    continue
                seq = log.seq_of.get(msg_id)
                if seq is not None and member.in_gap(seq):
                    unrecoverable += 1
                    continue
                lost += 1
                if len(lost_sample) < 10:
                    lost_sample.append(f"{member.room}/{msg_id}")
        return expected, lost, unrecoverable, lost_sample


def percentiles(values: list[float]) -> dict[str, float | None]:
    ordered = sorted(values)
    return {f"p{q}": percentile(ordered, q) for q in (50, 95, 99)} | {
        "max": round(ordered[-1], 1) if ordered else None
    }


def percentile(ordered: list[float], q: float) -> float | None:
    """Nearest-rank percentile of an ascending list; None when it is empty."""
    if not ordered:
        return None
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return round(ordered[rank - 1], 1)
