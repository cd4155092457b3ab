"""Faults on request, for tests: dropping $disconnect, which AWS delivers on a best-effort basis."""

from __future__ import annotations

import random


class DisconnectDrops:
    """Decides, once per $disconnect, whether to drop it: `rate` of them, from a seeded RNG.

    Used from the event loop's thread only, so the draws need no lock; with a seed, a run
    drops the same number of its first N disconnects whatever order they come in.
    """

    def __init__(self, rate: float = 0.0, seed: int | None = None) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"the $disconnect drop rate must be between 0 and 1, not {rate}")
        self.rate = rate
        self._rng = random.Random(seed)

    def drop(self) -> bool:
        return self.rate > 0.0 and self._rng.random() < self.rate
