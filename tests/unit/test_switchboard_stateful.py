"""Switchboard as a state machine over random operations and publisher faults, against a model.

Long: the state machine and the model it is checked against belong in one place.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from domain.model import FanoutResult, PostOutcome
from domain.service import MessageOutcome
from entrypoints.composition.settings import Settings

from .fault_rig import FaultRates, FaultyPublisher, Rig, now_ms, rig

ROOMS = ["lobby", "public:a", "r-1"]
MAX_ATTEMPTS = 5  # RetryPolicy's default, which the rig uses
BAD_FRAMES = [
    ("join", json.dumps({"action": "join"})),
    ("join", json.dumps({"room": "no spaces"})),
    ("leave", json.dumps({"room": "x" * 129})),
    ("leave", json.dumps({"room": 5})),
    ("sendmessage", json.dumps({"room": "lobby"})),
    ("sendmessage", json.dumps({"data": "x", "room": ""})),
    ("whoami", "[]"),
    ("join", "not json"),
]
# Text a client can send; lone surrogates are refused, which test_service_properties covers.
texts = st.text(st.characters(exclude_categories=["Cs"]))
rates = st.builds(
    FaultRates,
    gone=st.sampled_from([0.0, 0.0, 0.02, 0.1]),
    throttled=st.sampled_from([0.0, 0.1, 0.4]),
    failed=st.sampled_from([0.0, 0.1, 0.2]),
    timeout=st.sampled_from([0.0, 0.05, 0.15]),
)


class SwitchboardMachine(RuleBasedStateMachine):
    """The model: which connections exist, their rooms, when they expire and were stored."""

    # The establish grace: 0 here, so that every 410 prunes; the subclass below runs the
    # production settings, where a 410 within the grace of a record's write does not.
    GRACE = 0.0

    def __init__(self) -> None:
        super().__init__()
        self.rooms: dict[str, set[str]] = {}
        self.expires: dict[str, int] = {}
        self.stored_ms: dict[str, int] = {}
        self.seqs: dict[str, int] = {}  # each room's latest seq
        self.next_id = 0
        self.r: Rig
        self.publisher: FaultyPublisher

    @initialize(fault_rates=rates, rng=st.randoms(use_true_random=False), first=st.integers(1, 4))
    def start(self, fault_rates: FaultRates, rng: random.Random, first: int) -> None:
        self.publisher = FaultyPublisher(fault_rates, rng)
        self.r = rig(self.publisher, seed=rng.randrange(2**32), establish_grace=self.GRACE)
        for _ in range(first):
            self.connect()

    # -- the model's view ----------------------------------------------------------

    def live(self, now: float) -> set[str]:
        return {cid for cid, expires in self.expires.items() if now < expires}

    def members(self, room: str, now: float) -> set[str]:
        return {cid for cid in self.live(now) if room in self.rooms[cid]}

    def pick(self, index: int) -> str:
        live = sorted(self.live(self.r.clock.now()))
        return live[index % len(live)]

    def has_live(self) -> bool:
        return bool(self.live(self.r.clock.now()))

    def observe(
        self, audience: set[str], act: Callable[[], MessageOutcome]
    ) -> tuple[MessageOutcome, dict[str, list[bytes]], set[str]]:
        """Run `act`: what it returned, who received what, and who was pruned (a 410).

        Checks that nobody outside `audience` was even tried, and forgets the pruned.
        """
        sent_before = {cid: len(p) for cid, p in self.publisher.sent.items()}
        answers_before = {cid: len(a) for cid, a in self.publisher.answers.items()}
        outcome = act()  # never raises, whatever the publisher answers
        received = {
            cid: p[sent_before.get(cid, 0) :]
            for cid, p in self.publisher.sent.items()
            if len(p) > sent_before.get(cid, 0)
        }
        fresh = {
            cid: answers[answers_before.get(cid, 0) :]
            for cid, answers in self.publisher.answers.items()
            if len(answers) > answers_before.get(cid, 0)
        }
        assert set(fresh) <= audience, f"posted to {set(fresh) - audience}, outside {audience}"
        assert all(len(answers) <= MAX_ATTEMPTS for answers in fresh.values())
        pruned = {cid for cid, answers in fresh.items() if PostOutcome.GONE in answers}
        assert not pruned & set(received)
        # A record stored within the grace is kept on a 410 (counted failed): the fan-out
        # compares its storedAt with now - grace, in milliseconds, after its retries.
        cutoff_ms = int((self.r.clock.now() - self.GRACE) * 1000)
        if self.GRACE > 0:
            pruned = {cid for cid in pruned if self.stored_ms.get(cid, 0) < cutoff_ms}
        for cid in pruned:
            self.forget(cid)  # the store must have dropped it too: the invariant checks
        return outcome, received, pruned

    def forget(self, cid: str) -> None:
        self.rooms.pop(cid, None)
        self.expires.pop(cid, None)
        self.stored_ms.pop(cid, None)

    def check_broadcast(
        self,
        result: FanoutResult | None,
        audience: set[str],
        payload: bytes | None,
        seen: tuple[dict[str, list[bytes]], set[str]],
    ) -> None:
        """`payload` None: an envelope, the same bytes for all, checked by the caller."""
        received, pruned = seen
        assert result is not None
        assert all(len(p) == 1 for p in received.values()), "a recipient got it twice"
        if payload is not None:
            assert all(p == [payload] for p in received.values())
        assert len({p[0] for p in received.values()}) <= 1
        failed = set(result.failed_ids)
        # Each of the audience was delivered once, pruned, or reported failed: one of the three.
        assert set(received) | pruned | failed == audience
        assert len(received) + len(pruned) + len(failed) == len(audience)
        assert (result.recipients, result.delivered, result.pruned, result.failed) == (
            len(audience),
            len(received),
            len(pruned),
            len(failed),
        )

    def check_reply(
        self, sender: str, received: dict[str, list[bytes]], expected: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        for other, frames in received.items():  # others hear presence events, nothing else
            if other != sender:
                assert [json.loads(f)["type"] for f in frames] == ["presence"], frames
        if sender not in received:
            return None  # the reply failed, or the sender was gone: fine, nothing else moved
        [frame] = received[sender]
        reply: dict[str, Any] = json.loads(frame)
        if expected is not None:
            assert reply == expected
        return reply

    # -- rules ---------------------------------------------------------------------

    @rule()
    def connect(self) -> None:
        cid = f"c{self.next_id}="
        self.next_id += 1
        connection = self.r.board.connect(cid, now_ms(self.r.clock))
        self.rooms[cid], self.expires[cid] = set(), connection.expires_at
        self.stored_ms[cid] = now_ms(self.r.clock)

    @precondition(has_live)
    @rule(index=st.integers(0, 50))
    def disconnect(self, index: int) -> None:
        cid = self.pick(index)
        assert self.r.board.disconnect(cid) is True
        assert self.r.board.disconnect(cid) is False
        self.forget(cid)

    @precondition(has_live)
    @rule(index=st.integers(0, 50))
    def vanish(self, index: int) -> None:
        """The client went away and $disconnect never came: the next post gets 410."""
        self.publisher.mark_gone(self.pick(index))

    @precondition(has_live)
    @rule(index=st.integers(0, 50), room=st.sampled_from(ROOMS), joining=st.booleans())
    def join_or_leave(self, index: int, room: str, joining: bool) -> None:
        cid = self.pick(index)
        route = "join" if joining else "leave"
        body = json.dumps({"action": route, "room": room})
        members = self.members(room, self.r.clock.now())  # who hears the presence event
        outcome, received, _ = self.observe(
            {cid} | members, lambda: self.r.board.on_message(cid, route, body)
        )
        assert outcome.error is None
        if cid in self.rooms:
            (self.rooms[cid].add if joining else self.rooms[cid].discard)(room)
        expected: dict[str, Any] = {"type": "left", "room": room}
        if joining:
            expected = {"type": "joined", "room": room, "seq": self.seqs.get(room, 0)}
        self.check_reply(cid, received, expected)

    @precondition(has_live)
    @rule(index=st.integers(0, 50), room=st.none() | st.sampled_from(ROOMS), data=texts)
    def sendmessage(self, index: int, room: str | None, data: str) -> None:
        sender, now = self.pick(index), self.r.clock.now()
        audience = self.live(now) if room is None else self.members(room, now)
        body = {"action": "sendmessage", "data": data, **({"room": room} if room else {})}
        outcome, received, pruned = self.observe(
            audience, lambda: self.r.board.on_message(sender, "sendmessage", json.dumps(body))
        )
        assert outcome.error is None
        seq = None
        if room is not None:  # the room's next position, taken whatever the posts' fate
            seq = self.seqs[room] = self.seqs.get(room, 0) + 1
        self.check_broadcast(outcome.broadcast, audience, None, (received, pruned))
        for [envelope] in received.values():
            message = json.loads(envelope)
            assert (message["room"], message["seq"], message["data"]) == (room, seq, data)
            assert message["from"]["connectionId"] == sender

    @precondition(has_live)
    @rule(index=st.integers(0, 50), text=texts)
    def relay(self, index: int, text: str) -> None:
        sender, audience = self.pick(index), self.live(self.r.clock.now())
        outcome, received, pruned = self.observe(
            audience | {sender}, lambda: self.r.board.on_message(sender, "$default", text)
        )
        if outcome.error is not None:  # JSON but for NaN or Infinity: refused, never relayed
            assert outcome.error == "invalid_frame" and ("NaN" in text or "Infinity" in text)
            assert set(received) <= {sender}
            return
        self.check_broadcast(outcome.broadcast, audience, text.encode(), (received, pruned))

    @precondition(has_live)
    @rule(index=st.integers(0, 50))
    def whoami(self, index: int) -> None:
        cid = self.pick(index)
        _, received, _ = self.observe({cid}, lambda: self.r.board.on_message(cid, "whoami", "{}"))
        self.check_reply(cid, received, {"type": "whoami", "connectionId": cid})

    @precondition(has_live)
    @rule(index=st.integers(0, 50), bad=st.sampled_from(BAD_FRAMES))
    def invalid_frame(self, index: int, bad: tuple[str, str]) -> None:
        cid = self.pick(index)
        outcome, received, _ = self.observe({cid}, lambda: self.r.board.on_message(cid, *bad))
        assert outcome.error is not None
        reply = self.check_reply(cid, received)
        if reply is not None:
            assert reply["type"] == "error" and reply["error"] == outcome.error
            assert reply["message"].endswith(".")

    # Small steps mostly: four of the larger ones take a connection past its two hours.
    @rule(seconds=st.sampled_from([1, 60, 1800]))
    def time_passes(self, seconds: int) -> None:
        self.r.clock.advance(seconds)

    # -- the store equals the model ------------------------------------------------

    @invariant()
    def store_matches_model(self) -> None:
        if not hasattr(self, "r"):
            return
        now, store = self.r.clock.now(), self.r.store
        assert set(store.connection_ids(now)) == self.live(now)
        for room in ROOMS:
            assert set(store.room_member_ids(room, now)) == self.members(room, now)
        for cid, rooms in self.rooms.items():
            connection = store.get(cid)
            assert connection is not None and connection.rooms == rooms
        for n in range(self.next_id):
            if f"c{n}=" not in self.rooms:
                assert store.get(f"c{n}=") is None


SwitchboardMachine.TestCase.settings = settings(
    max_examples=200, stateful_step_count=50, deadline=None
)
TestSwitchboard = SwitchboardMachine.TestCase


class ProductionSettingsMachine(SwitchboardMachine):
    """The same machine under the production settings: the establish grace on (2 s), and the
    default batch size (1,000) and retry deadline (10 s), which the rig already uses."""

    GRACE = Settings().establish_grace


ProductionSettingsMachine.TestCase.settings = settings(
    max_examples=100, stateful_step_count=50, deadline=None
)
TestSwitchboardProductionSettings = ProductionSettingsMachine.TestCase
