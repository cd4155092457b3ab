"""One row of benchmark 2: a contender at one N, how it connected and what each broadcast took."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from client_processes import Arrivals, Connected


@dataclass
class Run:
    """One contender at one N: how it connected and what each broadcast took."""

    contender: str
    n: int
    processes: int
    connected: Connected
    broadcasts: list[Arrivals]
    server_cpu_ms: float  # per broadcast, the server process's (every thread)
    other_cores: float  # CPU other processes took during the broadcasts, in cores

    def completions_ms(self) -> list[float]:
        return [max(b.latencies_ms) for b in self.broadcasts if b.latencies_ms and not b.missing]

    def completion_ms(self) -> float | None:
        done = self.completions_ms()
        return statistics.median(done) if done else None

    def latencies_ms(self) -> list[float]:
        return [x for b in self.broadcasts for x in b.latencies_ms]

    def client_cpu_ms(self) -> float:
        """The busiest client process's CPU per broadcast: near the completion, clients bound it."""
        return statistics.median(b.client_cpu_ms for b in self.broadcasts)

    def received(self) -> tuple[int, int]:
        return sum(len(b.latencies_ms) for b in self.broadcasts), sum(
            b.expected for b in self.broadcasts
        )
