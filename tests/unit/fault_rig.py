"""Test rig: a publisher that fails at random rates, and a Switchboard wired over fakes."""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from adapters.memory.logs import MemoryLogs
from adapters.memory.store import MemoryStore
from domain.fanout import Fanout, RetryPolicy
from domain.model import PostOutcome
from domain.service import Limits, Switchboard
from tests.doubles import FakeClock, FakePublisher

# What `_draw` returns when the parent FakePublisher should answer (200, or 410 once gone).
PASS: Final = "pass"


@dataclass(frozen=True)
class FaultRates:
    """Chance, per post, of each answer that is not a 200."""

    gone: float = 0.0  # 410: the connection really is gone, and stays gone
    throttled: float = 0.0  # 429
    failed: float = 0.0  # 500
    timeout: float = 0.0  # no answer at all: the id is missing from the report


class FaultyPublisher(FakePublisher):
    """A FakePublisher that answers 410, 429, 500 and timeouts at random, seeded rates.

    `answers[id]` lists what every post to that id got, so tests can tell the pruned
    (a 410 at any attempt) from the failed; a timeout is recorded as None.
    """

    def __init__(self, rates: FaultRates, rng: random.Random) -> None:
        super().__init__()
        self.rates = rates
        self.rng = rng
        self.answers: defaultdict[str, list[PostOutcome | None]] = defaultdict(list)

    def post(self, payload: bytes, connection_ids: Sequence[str]) -> Mapping[str, PostOutcome]:
        report: dict[str, PostOutcome] = {}
        healthy: list[str] = []
        for connection_id in connection_ids:
            answer = self._draw(connection_id)
            if answer == PASS:
                healthy.append(connection_id)
                continue
            self.attempts[connection_id] += 1
            self.answers[connection_id].append(answer)
            if answer is not None:
                report[connection_id] = answer
        # The parent records deliveries (and honours mark_gone and scripts) for the rest.
        delivered = super().post(payload, healthy)
        for connection_id, outcome in delivered.items():
            self.answers[connection_id].append(outcome)
        report.update(delivered)
        return report

    def got_gone(self, connection_id: str) -> bool:
        return PostOutcome.GONE in self.answers.get(connection_id, ())

    def _draw(self, connection_id: str) -> PostOutcome | Literal["pass"] | None:
        if connection_id in self.gone:
            return PASS
        roll, rates = self.rng.random(), self.rates
        if roll < rates.gone:
            self.mark_gone(connection_id)  # from now on the parent answers 410
            return PASS
        roll -= rates.gone
        if roll < rates.throttled:
            return PostOutcome.THROTTLED
        roll -= rates.throttled
        if roll < rates.failed:
            return PostOutcome.FAILED
        roll -= rates.failed
        if roll < rates.timeout:
            return None
        return PASS


@dataclass
class Rig:
    """One Switchboard over a memory store, a fake publisher and a fake clock."""

    board: Switchboard
    store: MemoryStore
    publisher: FakePublisher
    clock: FakeClock
    fanout: Fanout


def rig(
    publisher: FakePublisher | None = None,
    policy: RetryPolicy | None = None,
    batch_size: int = 1000,
    seed: int = 0,
    limits: Limits | None = None,
    establish_grace: float = 0.0,
) -> Rig:
    """Without `limits`, messages are not metered (no budgets), as in most examples."""
    store, clock = MemoryStore(), FakeClock()
    publisher = publisher if publisher is not None else FakePublisher()
    rng = random.Random(seed)
    fanout = Fanout(store, publisher, clock, policy, rng, batch_size, establish_grace)
    budgets = store if limits is not None else None
    ids = (f"m{n}" for n in itertools.count(1))  # server-made message ids, in order
    board = Switchboard(
        store, fanout, clock, budgets=budgets, limits=limits, logs=MemoryLogs(),
        new_id=lambda: next(ids),
    )  # fmt: skip
    return Rig(board, store, publisher, clock, fanout)


def now_ms(clock: FakeClock) -> int:
    return int(clock.now() * 1000)
