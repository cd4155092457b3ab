"""CPU readings from /proc: a process's CPU time, and how much of the machine other work takes."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a whole process (every thread)."""
    return sum(process_cpu_split(pid))


def process_cpu_split(pid: int) -> tuple[float, float]:
    """User and system (kernel: syscalls, loopback TCP) CPU time of a whole process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS  # utime, stime


def machine_busy_seconds() -> float:
    """CPU time spent by every core on anything but idling, since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / CLOCK_TICKS  # minus idle and iowait


def wait_for_quiet(limit_s: float, busy_below: float = 0.3) -> float:
    """Wait (at most `limit_s`) until other work leaves the machine; return the cores it took."""
    deadline = time.monotonic() + limit_s
    while True:
        before, started = machine_busy_seconds(), time.monotonic()
        time.sleep(1.0)
        busy = (machine_busy_seconds() - before) / (time.monotonic() - started)
        if busy < busy_below or time.monotonic() >= deadline:
            return busy
        time.sleep(2.0)


class OtherWork:
    """Cores used by processes other than ours (`pids` and this one) between start and stop."""

    def __init__(self, pids: Iterable[int]) -> None:
        self._pids = list(pids)
        self._start = self._reading()

    def _reading(self) -> tuple[float, float, float]:
        ours = sum(process_cpu_seconds(pid) for pid in self._pids) + time.process_time()
        return time.monotonic(), machine_busy_seconds(), ours

    def cores(self) -> float:
        (t0, busy0, ours0), (t1, busy1, ours1) = self._start, self._reading()
        return max(0.0, (busy1 - busy0) - (ours1 - ours0)) / max(1e-9, t1 - t0)
