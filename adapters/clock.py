"""The system clock (tests use their own: tests/doubles.py)."""

from __future__ import annotations

import time

from domain.ports import Clock


class SystemClock(Clock):
    """The epoch from time.time(); durations from time.monotonic(), which never jumps."""

    def now(self) -> float:
        return time.time()

    def elapsed(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)
