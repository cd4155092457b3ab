"""Test doubles of the domain's ports: a publisher that records, a clock that moves when told;
and moto made atomic per request, as DynamoDB is.

They live with the tests, never in a package that ships.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from moto.core.botocore_stubber import BotocoreStubber

from domain.model import PostOutcome
from domain.ports import (
    AudienceReads,
    Clock,
    ConnectionStore,
    MessageBudgets,
    Publisher,
    RoomLogs,
    ShardProgress,
)


class FakePublisher(Publisher):
    """Delivers by recording: `sent[connection_id]` lists the payloads it received; can be told
    that ids are gone, or to answer the next posts to an id with given outcomes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sent: defaultdict[str, list[bytes]] = defaultdict(list)
        self.attempts: defaultdict[str, int] = defaultdict(int)
        self.gone: set[str] = set()
        self.disconnected: list[str] = []  # ids closed with DELETE @connections, in order
        self._scripted: defaultdict[str, list[PostOutcome]] = defaultdict(list)

    def mark_gone(self, *connection_ids: str) -> None:
        with self._lock:
            self.gone.update(connection_ids)

    def throttle(self, connection_id: str, times: int) -> None:
        """Answer 429 to the next `times` posts to this id."""
        self.script(connection_id, [PostOutcome.THROTTLED] * times)

    def script(self, connection_id: str, outcomes: Sequence[PostOutcome]) -> None:
        """Answer the next posts to this id with these outcomes, in order."""
        with self._lock:
            self._scripted[connection_id].extend(outcomes)

    def post(self, payload: bytes, connection_ids: Sequence[str]) -> Mapping[str, PostOutcome]:
        with self._lock:
            # Each distinct id once, as the port promises (and as the real publishers do).
            return {cid: self._post_one(payload, cid) for cid in dict.fromkeys(connection_ids)}

    def disconnect(self, connection_id: str) -> PostOutcome:
        with self._lock:
            if connection_id in self.gone:
                return PostOutcome.GONE
            self.disconnected.append(connection_id)
            self.gone.add(connection_id)  # closed: later posts to it are gone
            return PostOutcome.DELIVERED

    def _post_one(self, payload: bytes, connection_id: str) -> PostOutcome:
        self.attempts[connection_id] += 1
        if connection_id in self.gone:
            return PostOutcome.GONE
        scripted = self._scripted.get(connection_id)
        if scripted:
            outcome = scripted.pop(0)
            if outcome is not PostOutcome.DELIVERED:
                return outcome
        self.sent[connection_id].append(payload)
        return PostOutcome.DELIVERED


class FakeClock(Clock):
    """Starts at the epoch `start` and elapsed 0; sleeping advances both at once and records
    the wait."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.current = start
        self.since_start = 0.0
        self.slept: list[float] = []

    def now(self) -> float:
        return self.current

    def elapsed(self) -> float:
        return self.since_start

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.current += seconds
        self.since_start += seconds


@dataclass(frozen=True)
class StorageParts:
    """A Storage assembled from parts built by hand (a small page size, say)."""

    connections: ConnectionStore
    audience: AudienceReads
    progress: ShardProgress
    budgets: MessageBudgets
    logs: RoomLogs


@contextmanager
def atomic_requests() -> Iterator[None]:
    """moto in-process answers each request on its caller's thread, with no lock: two UpdateItem
    ADDs to one counter, from two threads, can both read the old value and both write old + 1.
    DynamoDB applies each request atomically, so concurrency tests run with moto answering one
    request at a time (every request whole, in some order: what DynamoDB promises per item)."""
    lock = threading.Lock()
    original = BotocoreStubber.process_request

    def one_at_a_time(self: BotocoreStubber, request: Any) -> Any:
        with lock:
            return original(self, request)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(BotocoreStubber, "process_request", one_at_a_time)
        yield
