"""Each connection's message budget: `rate` messages a second, bursts of up to `burst`.

The budget is a GCRA (generic cell rate algorithm, the leaky bucket as a meter): one number per
connection, the theoretical arrival time (TAT) of its next message. A message at `now` is within
budget when TAT - now <= (burst - 1) * interval; it then moves TAT to max(TAT, now) + interval.
One number, so a store can keep it with one conditional write, shared by every Lambda instance.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MessageBudget:
    """`rate` messages a second (0: no budget at all), bursts of up to `burst`."""

    rate: float = 10.0
    burst: int = 20

    def __post_init__(self) -> None:
        if self.rate < 0:
            raise ValueError(f"rate must not be negative, not {self.rate}")
        if self.burst < 1:
            raise ValueError(f"burst must be at least 1, not {self.burst}")

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    @property
    def interval(self) -> float:
        """Seconds one message uses up."""
        return 1.0 / self.rate

    @property
    def tolerance(self) -> float:
        """How far ahead of now the TAT may be for a message to pass."""
        return (self.burst - 1) * self.interval

    def spend(self, tat: float | None, now: float) -> float | None:
        """The TAT after one message at `now`, or None when it is over budget."""
        if tat is not None and tat - now > self.tolerance:
            return None
        return max(tat if tat is not None else now, now) + self.interval
