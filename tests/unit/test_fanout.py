"""Fan-out, example by example: once each, retry the throttled, prune the gone, never raise.

Long: fan-out's examples (once each, retries, prunes, deadline) over one rig.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping, Sequence

import pytest

from adapters.memory.store import MemoryStore
from domain.errors import StoreError
from domain.fanout import Fanout, RetryPolicy
from domain.model import Connection, FanoutResult, PostOutcome
from tests.doubles import FakeClock, FakePublisher

PAYLOAD = b"hello"
T, F, R, D = PostOutcome.THROTTLED, PostOutcome.FAILED, PostOutcome.REJECTED, PostOutcome.DELIVERED


class Setup:
    def __init__(self, *ids: str, policy: RetryPolicy | None = None, batch_size: int = 1000):
        self.clock = FakeClock()
        self.store = MemoryStore()
        for connection_id in ids:
            self.store.add(Connection.open(connection_id, int(self.clock.now() * 1000)))
        self.publisher = FakePublisher()
        self.fanout = Fanout(
            self.store, self.publisher, self.clock, policy, random.Random(7), batch_size
        )

    def send(self, *recipients: str) -> FanoutResult:
        return self.fanout.send(PAYLOAD, list(recipients))

    def stored(self) -> set[str]:
        return set(self.store.connection_ids(self.clock.now()))


class BrokenStore(MemoryStore):
    """A store whose deletes fail, as DynamoDB's may after its own retries."""

    def remove(self, connection_id: str) -> Connection | None:
        raise StoreError(f"could not delete {connection_id}")

    def prune(
        self, connection_ids: Sequence[str], stored_before_ms: int | None, within: float
    ) -> set[str]:
        raise StoreError(f"could not delete {', '.join(connection_ids)}")


def test_each_recipient_gets_the_payload_once() -> None:
    setup = Setup("a", "b", "c")
    result = setup.send("a", "b", "c")
    assert dict(setup.publisher.sent) == {"a": [PAYLOAD], "b": [PAYLOAD], "c": [PAYLOAD]}
    assert result == FanoutResult(recipients=3, delivered=3)
    assert setup.clock.slept == []


def test_duplicate_ids_are_posted_once() -> None:
    setup = Setup("a", "b", batch_size=2)
    result = setup.send("a", "a", "b", "a", "b", "b")
    assert dict(setup.publisher.attempts) == {"a": 1, "b": 1}
    assert result.recipients == 2 and result.delivered == 2


def test_no_recipients_posts_nothing() -> None:
    setup = Setup()
    assert setup.send() == FanoutResult()
    assert setup.publisher.attempts == {}


def test_gone_connections_are_pruned_and_nothing_else_is() -> None:
    setup = Setup("a", "b", "c")
    setup.publisher.mark_gone("b")
    result = setup.send("a", "b", "c")
    assert result == FanoutResult(recipients=3, delivered=2, pruned=1)
    assert setup.stored() == {"a", "c"}
    assert setup.publisher.attempts["b"] == 1  # a 410 is final: never retried


def test_throttled_below_the_bound_is_delivered_once() -> None:
    setup = Setup("a", "b")
    setup.publisher.throttle("a", 4)
    result = setup.send("a", "b")
    assert setup.publisher.sent["a"] == [PAYLOAD]
    assert setup.publisher.attempts["a"] == 5
    assert result == FanoutResult(recipients=2, delivered=2, retries=4)
    assert len(setup.clock.slept) == 4


def test_throttled_up_to_the_bound_fails_and_stays_stored() -> None:
    setup = Setup("a", "b", policy=RetryPolicy(max_attempts=3))
    setup.publisher.throttle("a", 3)
    result = setup.send("a", "b")
    assert setup.publisher.sent["a"] == []
    assert setup.publisher.attempts["a"] == 3
    assert (result.delivered, result.failed, result.failed_ids) == (1, 1, ("a",))
    assert setup.stored() == {"a", "b"}
    assert len(setup.clock.slept) == 2  # no pointless wait after the last attempt


def test_transient_failures_are_retried() -> None:
    setup = Setup("a")
    setup.publisher.script("a", [F, T, F])
    assert setup.send("a").delivered == 1
    assert setup.publisher.attempts["a"] == 4


def test_rejected_fails_at_once() -> None:
    setup = Setup("a", "b")
    setup.publisher.script("a", [R])
    result = setup.send("a", "b")
    assert (result.delivered, result.failed, result.failed_ids, result.retries) == (1, 1, ("a",), 0)
    assert setup.publisher.attempts["a"] == 1
    assert setup.stored() == {"a", "b"}


def test_an_id_the_publisher_does_not_report_is_retried() -> None:
    class Silent(FakePublisher):
        def post(self, payload: bytes, connection_ids: Sequence[str]) -> Mapping[str, PostOutcome]:
            answers = dict(super().post(payload, connection_ids))
            if self.attempts["a"] == 1:
                del answers["a"]  # a timeout: no word on "a" this time
            return answers

    setup = Setup("a")
    setup.publisher = Silent()
    setup.fanout = Fanout(setup.store, setup.publisher, setup.clock, rng=random.Random(1))
    result = setup.send("a")
    assert result.delivered == 1 and result.retries == 1


def test_a_failed_prune_is_logged_and_the_broadcast_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock, store, publisher = FakeClock(), BrokenStore(), FakePublisher()
    for connection_id in ("a", "b"):
        store.add(Connection.open(connection_id, int(clock.now() * 1000)))
    publisher.mark_gone("a")
    with caplog.at_level(logging.ERROR, logger="domain.fanout"):
        result = Fanout(store, publisher, clock, rng=random.Random(1)).send(PAYLOAD, ["a", "b"])
    assert (result.recipients, result.delivered, result.pruned, result.failed) == (2, 1, 0, 1)
    assert result.failed_ids == ("a",)  # still in the store: counted as failed
    assert "a" in caplog.text and "prune" in caplog.text


def test_the_deadline_stops_retrying() -> None:
    setup = Setup("a", "b", policy=RetryPolicy(deadline=0.0))
    setup.publisher.throttle("a", 1)
    result = setup.send("a", "b")
    assert setup.clock.slept == []
    assert (result.delivered, result.failed_ids) == (1, ("a",))
    assert setup.publisher.attempts["a"] == 1


def test_retry_waits_grow_and_stay_capped() -> None:
    policy = RetryPolicy(max_attempts=8, base_delay=0.1, max_delay=0.5, deadline=100.0)
    setup = Setup("a", policy=policy)
    setup.publisher.throttle("a", 7)
    setup.send("a")
    assert len(setup.clock.slept) == 7
    for k, wait in enumerate(setup.clock.slept):
        assert 0.0 <= wait <= min(0.5, 0.1 * 2**k)


def test_batch_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        Setup(batch_size=0)


@pytest.mark.parametrize(
    "bad",
    [
        {"max_attempts": 0},  # nobody would be posted to, and nobody counted as failed
        {"max_attempts": -1},
        {"base_delay": -0.05},  # a negative wait: time.sleep raises mid-broadcast
        {"max_delay": -1.0},
    ],
)
def test_a_retry_policy_that_cannot_work_is_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**bad)  # type: ignore[arg-type]
