"""Fan-out properties: for any recipients, gone ids and scripted answers, a simple model holds.

Long: the properties share one model of each recipient's fate.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace

from hypothesis import example, given, settings
from hypothesis import strategies as st

from adapters.memory.store import MemoryStore
from domain.fanout import Fanout, RetryPolicy
from domain.model import Connection, FanoutResult, PostOutcome
from entrypoints.composition.settings import Settings
from tests.doubles import FakeClock, FakePublisher

PAYLOAD = b"payload"
ANSWERS = [PostOutcome.THROTTLED, PostOutcome.FAILED, PostOutcome.REJECTED, PostOutcome.DELIVERED]
ids = st.text(alphabet="ABCabc012=", min_size=1, max_size=4)


@dataclass(frozen=True)
class Scenario:
    recipients: list[str]  # the stream, duplicates included
    bystanders: frozenset[str]  # stored, but not recipients: never touched
    gone: frozenset[str]
    scripts: dict[str, list[PostOutcome]]
    max_attempts: int

    def expected(self, connection_id: str) -> tuple[str, int]:
        """What should become of one recipient, and after how many posts."""
        if connection_id in self.gone:
            return "pruned", 1
        script = self.scripts.get(connection_id, [])
        for attempt in range(1, self.max_attempts + 1):
            answer = script[attempt - 1] if attempt <= len(script) else PostOutcome.DELIVERED
            if answer is PostOutcome.DELIVERED:
                return "delivered", attempt
            if answer is PostOutcome.REJECTED:
                return "failed", attempt
        return "failed", self.max_attempts


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    distinct = draw(st.lists(ids, unique=True, max_size=20))
    stream = draw(st.lists(st.sampled_from(distinct), max_size=10)) if distinct else []
    recipients = draw(st.permutations(distinct + stream))
    bystanders = draw(st.sets(ids, max_size=5)) - set(distinct)
    gone = draw(st.sets(st.sampled_from(distinct))) if distinct else set()
    max_attempts = draw(st.integers(1, 6))
    # Scripts shorter, as long as, and longer than the attempt bound.
    script = st.lists(st.sampled_from(ANSWERS), max_size=max_attempts + 2)
    scripts = {cid: draw(script) for cid in distinct}
    return Scenario(recipients, frozenset(bystanders), frozenset(gone), scripts, max_attempts)


@dataclass
class Run:
    result: FanoutResult
    publisher: FakePublisher
    store: MemoryStore
    clock: FakeClock


def run(scenario: Scenario, batch_size: int = 1000, seed: int = 0) -> Run:
    clock, store, publisher = FakeClock(), MemoryStore(), FakePublisher()
    for connection_id in set(scenario.recipients) | scenario.bystanders:
        store.add(Connection.open(connection_id, int(clock.now() * 1000)))
    publisher.mark_gone(*scenario.gone)
    for connection_id, script in scenario.scripts.items():
        publisher.script(connection_id, script)
    # No deadline here: these properties are about attempts; the deadline has its own.
    policy = RetryPolicy(max_attempts=scenario.max_attempts, deadline=math.inf)
    fanout = Fanout(store, publisher, clock, policy, random.Random(seed), batch_size)
    return Run(fanout.send(PAYLOAD, scenario.recipients), publisher, store, clock)


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_every_recipient_meets_the_fate_the_model_predicts(scenario: Scenario) -> None:
    done = run(scenario)
    fate = {cid: scenario.expected(cid) for cid in set(scenario.recipients)}
    delivered = {cid for cid, (what, _) in fate.items() if what == "delivered"}
    pruned = {cid for cid, (what, _) in fate.items() if what == "pruned"}
    failed = {cid for cid, (what, _) in fate.items() if what == "failed"}

    # Exactly once to the deliverable, never to anyone else (bystanders included).
    assert {cid: len(p) for cid, p in done.publisher.sent.items() if p} == dict.fromkeys(
        delivered, 1
    )
    assert all(p == [PAYLOAD] for p in done.publisher.sent.values() if p)
    assert {cid: n for cid, n in done.publisher.attempts.items()} == {
        cid: n for cid, (_, n) in fate.items()
    }
    # Exactly the gone are pruned; bystanders and the failed stay.
    assert (
        set(done.store.connection_ids(done.clock.now()))
        == (set(scenario.recipients) | scenario.bystanders) - pruned
    )
    result = done.result
    assert set(result.failed_ids) == failed and len(result.failed_ids) == len(failed)
    assert (result.recipients, result.delivered, result.pruned, result.failed) == (
        len(fate),
        len(delivered),
        len(pruned),
        len(failed),
    )
    assert result.recipients == result.delivered + result.pruned + result.failed
    assert result.retries == sum(n - 1 for _, n in fate.values())


@settings(max_examples=100, deadline=None)
@given(scenarios(), st.integers(1, 25), st.integers(0, 2**32))
def test_results_do_not_depend_on_the_batch_size(
    scenario: Scenario, batch_size: int, seed: int
) -> None:
    one_batch, batched = run(scenario), run(scenario, batch_size, seed)
    for result in (one_batch.result, batched.result):
        assert result.recipients == result.delivered + result.pruned + result.failed
    a, b = one_batch.result, batched.result
    assert (a.recipients, a.delivered, a.pruned, a.failed, a.retries) == (
        b.recipients,
        b.delivered,
        b.pruned,
        b.failed,
        b.retries,
    )
    assert set(a.failed_ids) == set(b.failed_ids)
    assert dict(one_batch.publisher.sent) == dict(batched.publisher.sent)
    assert dict(one_batch.publisher.attempts) == dict(batched.publisher.attempts)
    now = one_batch.clock.now()
    assert set(one_batch.store.connection_ids(now)) == set(batched.store.connection_ids(now))


policies = st.builds(
    RetryPolicy,
    max_attempts=st.integers(1, 8),
    base_delay=st.floats(0.0, 1.0),
    max_delay=st.floats(0.0, 3.0),
    deadline=st.floats(0.0, 5.0),
)


@settings(max_examples=200, deadline=None)
@given(
    policies,
    st.dictionaries(ids, st.integers(0, 10), max_size=15),
    st.integers(1, 16),
    st.integers(0, 2**32),
)
# Found on a fresh clone (2026-12-02): measured on the epoch (1.7e9), 1e-05 s of waits read as
# 1.00000008e-05, past the deadline. Durations now come from the clock's start.
@example(RetryPolicy(3, 1.0, 1e-05, 1e-05), {"a=": 2}, 16, 1)
def test_waits_are_jittered_capped_and_within_the_deadline(
    policy: RetryPolicy, throttles: dict[str, int], batch_size: int, seed: int
) -> None:
    clock, store, publisher = FakeClock(), MemoryStore(), FakePublisher()
    for connection_id, times in throttles.items():
        store.add(Connection.open(connection_id, int(clock.now() * 1000)))
        publisher.throttle(connection_id, times)
    start = clock.elapsed()
    fanout = Fanout(store, publisher, clock, policy, random.Random(seed), batch_size)
    result = fanout.send(PAYLOAD, list(throttles))

    assert clock.elapsed() - start <= policy.deadline
    for wait in clock.slept:
        assert 0.0 <= wait <= policy.max_delay
    if batch_size >= len(throttles):
        # One batch: the k-th wait (k from 0) is drawn from [0, min(cap, base * 2**k)].
        for k, wait in enumerate(clock.slept):
            assert wait <= min(policy.max_delay, policy.base_delay * 2**k)
    assert len(clock.slept) <= (policy.max_attempts - 1) * max(
        1, math.ceil(len(throttles) / batch_size)
    )
    # Within the attempt bound, a recipient is delivered unless the deadline cut it short.
    for connection_id, times in throttles.items():
        posts = publisher.attempts[connection_id]
        assert posts <= policy.max_attempts
        assert len(publisher.sent[connection_id]) == (1 if times < posts else 0)
    assert result.recipients == result.delivered + result.failed


@settings(max_examples=150, deadline=None)
@given(scenarios(), st.data())
def test_every_recipient_meets_its_fate_under_the_production_settings(
    scenario: Scenario, data: st.DataObject
) -> None:
    """As the handler runs it: the default attempts, backoff, deadline and batch size, and the
    establish grace on: a gone connection whose record was stored within it is kept."""
    production = Settings()
    policy = RetryPolicy(
        production.max_attempts, production.base_delay, production.max_delay, production.deadline
    )
    scenario = replace(scenario, max_attempts=production.max_attempts)
    young = data.draw(st.sets(st.sampled_from(sorted(scenario.gone)))) if scenario.gone else set()
    clock, store, publisher = FakeClock(), MemoryStore(), FakePublisher()
    for connection_id in set(scenario.recipients) | scenario.bystanders:
        age = 0.0 if connection_id in young else 60.0  # seconds since its record was stored
        stored_ms = int((clock.now() - age) * 1000)
        store.add(Connection.open(connection_id, stored_ms, stored_at_ms=stored_ms))
    publisher.mark_gone(*scenario.gone)
    for connection_id, script in scenario.scripts.items():
        publisher.script(connection_id, script)
    fanout = Fanout(
        store, publisher, clock, policy, random.Random(0), production.batch_size,
        production.establish_grace,
    )  # fmt: skip
    result = fanout.send(PAYLOAD, scenario.recipients)
    fate = {cid: scenario.expected(cid) for cid in set(scenario.recipients)}
    pruned = {cid for cid, (what, _) in fate.items() if what == "pruned"} - young
    failed = {cid for cid, (what, _) in fate.items() if what == "failed"} | young
    assert (
        set(store.connection_ids(clock.now()))
        == (set(scenario.recipients) | scenario.bystanders) - pruned
    )
    assert set(result.failed_ids) == failed
    assert (result.pruned, result.failed) == (len(pruned), len(failed))
    assert clock.elapsed() <= production.deadline
