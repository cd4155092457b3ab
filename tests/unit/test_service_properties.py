"""Broadcast properties through Switchboard: right audience, once each, gone pruned, no raise.

Long: the properties share one model of who should hear what.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.limits import MAX_CONNECTION_SECONDS
from domain.model import EVERYONE, Audience, PostOutcome
from domain.protocol import ROUTES

from .fault_rig import FaultRates, FaultyPublisher, Rig, now_ms, rig

ROOMS = ["lobby", "public:a", "user:x"]
MAX_ATTEMPTS = 5  # RetryPolicy's default, which these tests run with
T, F, R = PostOutcome.THROTTLED, PostOutcome.FAILED, PostOutcome.REJECTED


@dataclass(frozen=True)
class Member:
    rooms: frozenset[str]
    expired: bool
    gone: bool
    script: tuple[PostOutcome, ...]  # answers before a 200; throttles above the bound too


@st.composite
def worlds(draw: st.DrawFn) -> dict[str, Member]:
    ids = draw(st.lists(st.text("abcXYZ=", min_size=1, max_size=3), unique=True, max_size=15))
    return {
        cid: Member(
            rooms=frozenset(draw(st.sets(st.sampled_from(ROOMS)))),
            expired=draw(st.booleans()) and draw(st.booleans()),
            gone=draw(st.booleans()) and draw(st.booleans()),
            script=tuple(draw(st.lists(st.sampled_from([T, T, F, R]), max_size=MAX_ATTEMPTS + 1))),
        )
        for cid in ids
    }


def populate(r: Rig, world: dict[str, Member]) -> None:
    """Connect everyone; the expired ones connected more than two hours ago."""
    for cid, member in world.items():
        if member.expired:
            r.board.connect(cid, now_ms(r.clock))
            for room in member.rooms:
                r.store.join(cid, room, 100)
    r.clock.advance(MAX_CONNECTION_SECONDS + 1)
    for cid, member in world.items():
        if not member.expired:
            r.board.connect(cid, now_ms(r.clock))
            for room in member.rooms:
                r.store.join(cid, room, 100)


def fate(member: Member) -> str:
    if member.gone:
        return "pruned"
    for answer in member.script[:MAX_ATTEMPTS]:
        if answer is R:
            return "failed"
    return "delivered" if len(member.script) < MAX_ATTEMPTS else "failed"


@settings(max_examples=150, deadline=None)
@given(
    worlds(),
    st.none() | st.sampled_from(ROOMS),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=20),
)
def test_a_broadcast_reaches_its_live_audience_once_and_prunes_exactly_the_gone(
    world: dict[str, Member], room: str | None, data: str
) -> None:
    r = rig()
    populate(r, world)
    for cid, member in world.items():
        r.publisher.script(cid, member.script)
        if member.gone:
            r.publisher.mark_gone(cid)
    audience = {
        cid for cid, m in world.items() if not m.expired and (room is None or room in m.rooms)
    }
    body = {"data": data} if room is None else {"data": data, "room": room}
    outcome = r.board.on_message("outsider", "sendmessage", json.dumps(body))

    fates = {cid: fate(world[cid]) for cid in audience}
    delivered = {cid for cid in audience if fates[cid] == "delivered"}
    pruned = {cid for cid in audience if fates[cid] == "pruned"}
    # Nobody outside the live audience is even tried: not non-members, not the expired.
    assert set(r.publisher.attempts) == audience
    got = {cid: p for cid, p in r.publisher.sent.items() if p}
    assert set(got) == delivered and all(len(p) == 1 for p in got.values())
    # One envelope, the same bytes for all, carrying the data as sent.
    assert len({p[0] for p in got.values()}) <= 1
    assert all(json.loads(p[0])["data"] == data for p in got.values())
    # Gone members are deleted; expired and failed records are not (TTL handles the expired).
    assert {cid for cid in world if r.store.get(cid) is None} == pruned
    result = outcome.broadcast
    assert result is not None and outcome.error is None
    assert result.recipients == len(audience) == result.delivered + result.pruned + result.failed
    assert (result.delivered, result.pruned) == (len(delivered), len(pruned))


rates = st.builds(
    FaultRates,
    gone=st.sampled_from([0.0, 0.02, 0.1, 0.3]),
    throttled=st.sampled_from([0.0, 0.1, 0.3, 0.6]),
    failed=st.sampled_from([0.0, 0.1, 0.2]),
    timeout=st.sampled_from([0.0, 0.05, 0.2]),
)


@settings(max_examples=100, deadline=None)
@given(worlds(), rates, st.randoms(use_true_random=False), st.integers(1, 6), st.integers(1, 4))
def test_under_random_publisher_faults_every_broadcast_keeps_the_invariants(
    world: dict[str, Member],
    fault_rates: FaultRates,
    rng: random.Random,
    batch_size: int,
    broadcasts: int,
) -> None:
    publisher = FaultyPublisher(fault_rates, rng)
    r = rig(publisher, batch_size=batch_size, seed=rng.randrange(2**32))
    populate(r, world)
    for n in range(broadcasts):
        room = rng.choice([None, *ROOMS])
        before_sent = {cid: len(p) for cid, p in publisher.sent.items()}
        before_answers = {cid: len(a) for cid, a in publisher.answers.items()}
        before_attempts = dict(publisher.attempts)
        stored = set(r.store.connection_ids(r.clock.now()))
        audience = stored if room is None else set(r.store.room_member_ids(room, r.clock.now()))

        result = r.board.broadcast(f"m{n}".encode(), EVERYONE if room is None else Audience(room))

        new_sent = {
            cid: publisher.sent[cid][before_sent.get(cid, 0) :] for cid in list(publisher.sent)
        }
        got_gone = {
            cid
            for cid in audience
            if PostOutcome.GONE in publisher.answers[cid][before_answers.get(cid, 0) :]
        }
        delivered = {cid for cid, p in new_sent.items() if p}
        assert all(p == [f"m{n}".encode()] for p in new_sent.values() if p)  # at most once
        assert delivered <= audience
        assert set(result.failed_ids) <= audience - delivered - got_gone
        assert delivered | got_gone | set(result.failed_ids) == audience
        assert (result.recipients, result.delivered, result.pruned) == (
            len(audience),
            len(delivered),
            len(got_gone),
        )
        assert result.recipients == result.delivered + result.pruned + result.failed
        assert set(r.store.connection_ids(r.clock.now())) == stored - got_gone
        for cid, posts in publisher.attempts.items():
            assert posts - before_attempts.get(cid, 0) <= MAX_ATTEMPTS


# Any code point, lone surrogates (legal as JSON escapes) made common enough to turn up:
# st.text() draws them very rarely, so build strings from characters instead.
chars = st.characters() | st.characters(categories=["Cs"])


def texts(max_size: int = 10) -> st.SearchStrategy[str]:
    return st.lists(chars, max_size=max_size).map("".join)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | texts(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts(4), inner, max_size=3),
    max_leaves=8,
)
fields = st.dictionaries(
    st.sampled_from(["action", "data", "room"]), json_values | st.sampled_from(ROOMS), max_size=3
)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([*ROUTES, "$default", "other"]),
    texts() | fields.map(json.dumps) | json_values.map(json.dumps),
)
def test_no_frame_on_any_route_makes_on_message_raise(route: str, body: str) -> None:
    r = rig()
    r.board.connect("a", now_ms(r.clock))
    r.board.connect("b", now_ms(r.clock))
    outcome = r.board.on_message("a", route, body)
    if outcome.error is not None:
        # An error is for the sender alone, and changes nothing.
        assert set(cid for cid, p in r.publisher.sent.items() if p) <= {"a"}
        assert all(not c.rooms for c in map(r.store.get, "ab") if c is not None)
