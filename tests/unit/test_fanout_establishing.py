"""A 410 from a connection that connected moments ago does not prune it (when configured)."""

from __future__ import annotations

import random

from adapters.memory.store import MemoryStore
from domain.fanout import Fanout
from domain.model import Connection
from tests.doubles import FakeClock, FakePublisher

PAYLOAD = b"hello"


def setup(grace: float) -> tuple[FakeClock, MemoryStore, FakePublisher, Fanout]:
    clock, store, publisher = FakeClock(), MemoryStore(), FakePublisher()
    fanout = Fanout(store, publisher, clock, rng=random.Random(1), establish_grace=grace)
    return clock, store, publisher, fanout


def test_a_young_record_answering_410_is_kept_and_counted_failed() -> None:
    clock, store, publisher, fanout = setup(grace=2.0)
    store.add(Connection.open("old", int((clock.now() - 60) * 1000)))
    store.add(Connection.open("young", int((clock.now() - 0.5) * 1000)))
    publisher.mark_gone("old", "young")
    result = fanout.send(PAYLOAD, ["old", "young"])
    assert (result.pruned, result.failed, result.failed_ids) == (1, 1, ("young",))
    assert store.get("old") is None
    assert store.get("young") is not None  # API Gateway may still be finishing its handshake


def test_past_the_grace_a_410_prunes_as_always() -> None:
    clock, store, publisher, fanout = setup(grace=2.0)
    store.add(Connection.open("a", int(clock.now() * 1000)))
    publisher.mark_gone("a")
    clock.advance(2.5)
    assert fanout.send(PAYLOAD, ["a"]).pruned == 1
    assert store.get("a") is None


def test_without_a_grace_every_410_prunes() -> None:
    clock, store, publisher, fanout = setup(grace=0.0)
    store.add(Connection.open("a", int(clock.now() * 1000)))
    publisher.mark_gone("a")
    assert fanout.send(PAYLOAD, ["a"]).pruned == 1
