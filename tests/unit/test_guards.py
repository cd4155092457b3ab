"""What a connection may do: broadcast only with a grant, rooms only as its token allows (and
none when the authorizer named none), at most MAX_ROOMS at once, messages within its budget,
and nothing once its token has expired."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from domain.budget import MessageBudget
from domain.errors import StoreError
from domain.model import Identity
from domain.service import Limits

from .fault_rig import Rig, now_ms, rig

ALICE = Identity(principal="alice", allowed_rooms=("public:*",), may_broadcast=False)


def frame(**fields: Any) -> str:
    return json.dumps(fields)


def errors(r: Rig, connection_id: str) -> list[str]:
    frames = [p for p in r.publisher.sent.get(connection_id, []) if p.startswith(b"{")]
    sent = [json.loads(p) for p in frames]
    return [s["error"] for s in sent if isinstance(s, dict) and s.get("type") == "error"]


def connected(*ids: str, limits: Limits | None = None) -> Rig:
    r = rig(limits=limits)
    for connection_id in ids:
        r.board.connect(connection_id, now_ms(r.clock))
    return r


@pytest.mark.parametrize(
    ("route", "body"),
    [("$default", "hello everyone"), ("sendmessage", frame(action="sendmessage", data="hi"))],
)
def test_a_broadcast_to_everyone_needs_the_grant(route: str, body: str) -> None:
    r = connected("a", "b")
    outcome = r.board.on_message("a", route, body, ALICE)
    assert outcome.error == "forbidden"
    assert errors(r, "a") == ["forbidden"]
    assert "b" not in r.publisher.sent  # nobody else got anything
    granted = Identity(principal="alice", allowed_rooms=(), may_broadcast=True)
    assert r.board.on_message("a", route, body, granted).error is None
    assert len(r.publisher.sent["b"]) == 1


def test_without_an_authorizer_everyone_may_broadcast() -> None:
    r = connected("a", "b")
    assert r.board.on_message("a", "$default", "hello", Identity()).error is None
    assert r.board.on_message("a", "$default", "hello", None).error is None
    assert r.publisher.sent["b"] == [b"hello", b"hello"]


def test_a_room_message_needs_no_broadcast_grant_only_the_room() -> None:
    r = connected("a", "b")
    r.board.on_message("b", "join", frame(room="public:lobby"), ALICE)
    body = frame(action="sendmessage", room="public:lobby", data="hi")
    assert r.board.on_message("a", "sendmessage", body, ALICE).error is None
    assert json.loads(r.publisher.sent["b"][-1])["data"] == "hi"


def test_an_authorizer_that_names_no_rooms_allows_none() -> None:
    r = connected("a")
    bob = Identity(principal="bob", allowed_rooms=())
    outcome = r.board.on_message("a", "join", frame(room="user:alice"), bob)
    assert outcome.error == "forbidden_room"
    assert r.store.get("a").rooms == frozenset()  # type: ignore[union-attr]


def test_a_connection_is_in_at_most_max_rooms_rooms() -> None:
    r = connected("a", limits=Limits(max_rooms=2))
    for room in ("one", "two"):
        assert r.board.on_message("a", "join", frame(room=room)).error is None
    outcome = r.board.on_message("a", "join", frame(room="three"))
    assert outcome.error == "too_many_rooms"
    assert errors(r, "a") == ["too_many_rooms"]
    assert r.store.get("a").rooms == {"one", "two"}  # type: ignore[union-attr]
    assert r.board.on_message("a", "join", frame(room="two")).error is None  # already in
    r.board.on_message("a", "leave", frame(room="one"))
    assert r.board.on_message("a", "join", frame(room="three")).error is None


def test_a_message_after_the_token_expired_closes_the_connection() -> None:
    r = connected("a", "b")
    expires = int(r.clock.now()) + 60
    identity = Identity(principal="alice", allowed_rooms=("*",), token_expires_at=expires)
    assert r.board.on_message("a", "$default", "before", identity).error is None
    r.clock.advance(61)
    outcome = r.board.on_message("a", "$default", "after", identity)
    assert (outcome.error, outcome.closed) == ("token_expired", True)
    assert errors(r, "a") == ["token_expired"]  # told first, then closed
    assert r.publisher.disconnected == ["a"]
    assert r.publisher.sent["b"] == [b"before"]  # the late message went nowhere


def test_each_connection_has_its_own_budget_with_bursts() -> None:
    limits = Limits(budget=MessageBudget(rate=10, burst=3))
    r = connected("a", "b", limits=limits)
    outcomes = [r.board.on_message("a", "$default", f"m{n}").error for n in range(5)]
    assert outcomes == [None, None, None, "rate_limited", "rate_limited"]
    assert r.board.on_message("b", "$default", "b's own").error is None  # not a's budget
    r.clock.advance(0.1)  # one message's worth of time
    assert r.board.on_message("a", "$default", "again").error is None
    assert r.board.on_message("a", "$default", "too soon").error == "rate_limited"
    relayed = [p for p in r.publisher.sent["b"] if not p.startswith(b"{")]
    assert relayed == [b"m0", b"m1", b"m2", b"b's own", b"again"]  # the dropped never went


def test_a_rate_of_zero_turns_the_budget_off() -> None:
    r = connected("a", limits=Limits(budget=MessageBudget(rate=0)))
    assert [r.board.on_message("a", "$default", "x").error for _ in range(50)] == [None] * 50


def test_a_budget_that_cannot_be_read_lets_the_message_through_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    r = connected("a", limits=Limits(budget=MessageBudget(rate=1, burst=1)))

    def broken(connection_id: str, budget: MessageBudget, now: float) -> bool:
        raise StoreError("DynamoDB could not meter 'a': throttled")

    r.store.spend = broken  # type: ignore[method-assign]
    with caplog.at_level(logging.ERROR, logger="domain.service"):
        assert r.board.on_message("a", "$default", "x").error is None
    assert "could not meter a message of a" in caplog.text
