"""The system clock, and a fake one that only moves when told to."""

from __future__ import annotations

import time

from domain.ports import Clock


class SystemClock(Clock):
    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class FakeClock(Clock):
    """Starts at `start`; sleeping advances it at once and records the wait."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.current = start
        self.slept: list[float] = []

    def now(self) -> float:
        return self.current

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.current += seconds

    def advance(self, seconds: float) -> None:
        self.current += seconds
