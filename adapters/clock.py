"""The system clock (tests use their own: tests/doubles.py)."""

from __future__ import annotations

import time

from domain.ports import Clock


class SystemClock(Clock):
    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)
