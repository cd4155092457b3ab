"""What one connection hears, sorted: envelopes (live or replayed) to the ledger, `joined` (a
first join, or a rejoin with since: recovered or not), error frames.

Envelopes that come before the first join's ack are kept until it comes: those after its seq
are the member's. On a rejoin, those inside (since, seq] after a recovered `joined` are the
replay.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from delivery_ledger import Ledger, Membership

# (name, response time in ms, response length, exception or None)
Report = Callable[[str, float, int, BaseException | None], None]


class SessionError(Exception):
    """A connection, join, send or frame that went wrong; its text says which and why."""


class Inbox:
    """`member`: a membership carried on from an earlier connection (a rejoin), or None until
    the first join's ack. `since` and `started` (perf_counter) are set by the join's sender."""

    def __init__(self, ledger: Ledger, report: Report, member: Membership | None) -> None:
        self.member = member
        self.since: int | None = None
        self.started = 0.0
        self._ledger = ledger
        self._report = report
        self._replaying: tuple[int, int] | None = None  # (since, seq) of a recovered rejoin
        self._early: list[tuple[str, int | None, float]] = []

    def take(self, text: str) -> dict[str, Any] | SessionError | None:
        """Sort one frame; an ack (joined, left) or an error frame is returned for the caller
        waiting on its request."""
        try:
            frame = json.loads(text)
        except ValueError:
            frame = None
        if not isinstance(frame, dict):
            self._report("frame", 0, len(text), SessionError("a frame that is not a JSON object"))
            return None
        kind = frame.get("type")
        if kind == "message":
            self._message(frame, len(text))
        elif kind in ("joined", "left"):
            if kind == "joined":
                self._joined(frame)
            return frame
        elif kind == "error" or (kind is None and "message" in frame):
            # Ours ({"type":"error",...}) or API Gateway's ({"message":"Forbidden",...}).
            problem = SessionError(f"error frame: {frame.get('error') or frame.get('message')}")
            self._report("error frame", 0, len(text), problem)
            self._ledger.error("error frame")
            return problem
        return None  # presence and the like: not what a load test counts

    def _message(self, frame: dict[str, Any], length: int) -> None:
        msg_id, seq, data = str(frame.get("id")), frame.get("seq"), frame.get("data")
        seq = seq if isinstance(seq, int) else None
        sent_ms = data.get("ts") if isinstance(data, dict) else None
        latency = time.time() * 1000 - float(sent_ms) if sent_ms is not None else 0.0
        if self.member is None:  # before the first join's ack: sorted out once it comes
            self._early.append((msg_id, seq, latency))
            return
        window = self._replaying
        replayed = window is not None and seq is not None and window[0] < seq <= window[1]
        self._ledger.delivered(self.member, msg_id, seq, latency, replayed)
        self._report("replay" if replayed else "deliver", latency, length, None)

    def _joined(self, frame: dict[str, Any]) -> None:
        seq = frame.get("seq")
        seq = seq if isinstance(seq, int) else 0
        if self.member is None:
            self.member = self._ledger.joined(str(frame.get("room")), time.monotonic(), seq)
            early, self._early = self._early, []
            for msg_id, msg_seq, latency in early:
                if msg_seq is not None and msg_seq > seq:  # the room's, after the join
                    self._ledger.delivered(self.member, msg_id, msg_seq, latency)
        elif self.since is not None:  # a rejoin: from connect to the ack, the outage's cost
            recovered = frame.get("recovered") is True
            if recovered:
                self._replaying = (self.since, seq)
            ms = (time.perf_counter() - self.started) * 1000
            self._ledger.rejoined(self.member, self.since, seq, recovered, ms)
            self._report("rejoin" if recovered else "rejoin (not recovered)", ms, 0, None)
