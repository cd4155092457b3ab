"""Channels, example by example: envelopes, each room's order and history, recovery after a
reconnect, presence and its events, users' own rooms, and a backend's publish."""

from __future__ import annotations

import json
from typing import Any

from domain.history import HistoryPolicy
from domain.model import Identity
from domain.service import Limits

from .fault_rig import Rig, now_ms, rig


def frame(**fields: Any) -> str:
    return json.dumps(fields)


def got(r: Rig, connection_id: str) -> list[dict[str, Any]]:
    return [json.loads(p) for p in r.publisher.sent.get(connection_id, [])]


def connected(*ids: str, limits: Limits | None = None) -> Rig:
    r = rig(limits=limits)
    for connection_id in ids:
        r.board.connect(connection_id, now_ms(r.clock))
    return r


def send(r: Rig, cid: str, room: str | None, data: Any, **extra: Any) -> None:
    body = {"data": data, **({"room": room} if room else {}), **extra}
    assert r.board.on_message(cid, "sendmessage", frame(**body)).error is None


def messages(r: Rig, connection_id: str) -> list[tuple[int | None, Any]]:
    return [(m["seq"], m["data"]) for m in got(r, connection_id) if m["type"] == "message"]


def test_each_room_numbers_its_messages_1_2_3_and_everyone_gets_none() -> None:
    r = connected("a", "b")
    for cid in ("a", "b"):
        r.board.on_message(cid, "join", frame(room="x"))
    r.board.on_message("a", "join", frame(room="y"))
    send(r, "a", "x", "one")
    send(r, "b", "x", "two")
    send(r, "a", "y", "other room")
    send(r, "a", None, "all")
    assert messages(r, "b") == [(1, "one"), (2, "two"), (None, "all")]
    assert messages(r, "a") == [(1, "one"), (2, "two"), (1, "other room"), (None, "all")]


def test_a_message_id_is_kept_or_made_and_a_repeat_is_delivered_once() -> None:
    r = connected("a", "b")
    for cid in ("a", "b"):
        r.board.on_message(cid, "join", frame(room="x"))
    send(r, "a", "x", "hi", id="c1")
    send(r, "a", "x", "hi again", id="c1")  # the same id from the same sender: a duplicate
    send(r, "b", "x", "mine", id="c1")  # the same id from another sender: a new message
    send(r, "a", "x", "no id")
    ids = [(m["seq"], m["id"]) for m in got(r, "b") if m["type"] == "message"]
    assert ids == [(1, "c1"), (2, "c1"), (3, "m1")]
    r.clock.advance(601)  # past the history window: the id may be used again
    send(r, "a", "x", "later", id="c1")
    assert messages(r, "b")[-1] == (4, "later")


def test_join_answers_the_room_s_latest_seq() -> None:
    r = connected("a", "b")
    r.board.on_message("a", "join", frame(room="x"))
    for n in range(3):
        send(r, "a", "x", n)
    r.board.on_message("b", "join", frame(room="x"))
    r.board.on_message("b", "join", frame(room="never-used"))
    joined = [m for m in got(r, "b") if m["type"] == "joined"]
    assert joined == [
        {"type": "joined", "room": "x", "seq": 3},
        {"type": "joined", "room": "never-used", "seq": 0},
    ]


def test_recovery_replays_what_was_missed_in_order_after_the_answer() -> None:
    r = connected("a", "b")
    for cid in ("a", "b"):
        r.board.on_message(cid, "join", frame(room="x"))
    send(r, "a", "x", "seen")
    r.board.disconnect("b")  # b goes away, a goes on
    for n in range(3):
        send(r, "a", "x", f"missed {n}")
    r.board.connect("b2", now_ms(r.clock))  # b again, on a new connection
    r.board.on_message("b2", "join", frame(room="x", since=1))
    assert [m["type"] for m in got(r, "b2")] == ["joined", "message", "message", "message"]
    assert got(r, "b2")[0] == {"type": "joined", "room": "x", "seq": 4, "recovered": True}
    assert messages(r, "b2") == [(2, "missed 0"), (3, "missed 1"), (4, "missed 2")]
    r.board.on_message("b2", "join", frame(room="x", since=4))  # nothing missed
    assert got(r, "b2")[-1] == {"type": "joined", "room": "x", "seq": 4, "recovered": True}


def test_a_history_that_no_longer_holds_the_next_message_says_not_recovered() -> None:
    limits = Limits(history=HistoryPolicy(size=3, ttl=60))
    r = connected("a", "b", limits=limits)
    r.board.on_message("a", "join", frame(room="x"))
    for n in range(5):
        send(r, "a", "x", n)
    cases = {
        1: False,  # seq 2 was trimmed: only 3, 4, 5 are kept
        2: True,
        7: False,  # past the last: the client's state is not this room's
    }
    for since, recovered in cases.items():
        r.board.on_message("b", "join", frame(room="x", since=since))
        assert got(r, "b")[-1 if not recovered else -(6 - since)]["recovered"] is recovered
    r.clock.advance(61)  # every message has expired
    before = len(got(r, "b"))
    r.board.on_message("b", "join", frame(room="x", since=3))
    assert got(r, "b")[before:] == [{"type": "joined", "room": "x", "seq": 5, "recovered": False}]


def test_presence_counts_every_member_and_lists_some() -> None:
    r = rig(limits=Limits(presence_list_max=2))
    for cid, sub in (("a", "alice"), ("b", "bob"), ("c", None)):
        r.board.connect(cid, now_ms(r.clock), Identity(principal=sub) if sub else None)
        r.board.on_message(cid, "join", frame(room="x"))
    r.board.on_message("c", "presence", frame(room="x"))
    answer = got(r, "c")[-1]
    assert (answer["type"], answer["room"], answer["count"]) == ("presence", "x", 3)
    assert answer["members"] == [
        {"connectionId": "a", "sub": "alice"},
        {"connectionId": "b", "sub": "bob"},
    ]


def test_presence_is_for_members_or_tokens_that_allow_the_room() -> None:
    r = connected("a", "b")
    r.board.on_message("a", "join", frame(room="secret"))
    stranger = Identity(principal="eve", allowed_rooms=("public:*",))
    outcome = r.board.on_message("b", "presence", frame(room="secret"), stranger)
    assert outcome.error == "forbidden_room"
    allowed = Identity(principal="ops", allowed_rooms=("secret",))
    assert r.board.on_message("b", "presence", frame(room="secret"), allowed).error is None


def test_members_hear_who_joins_and_leaves_a_disconnect_included() -> None:
    r = rig()
    for cid, sub in (("a", "alice"), ("b", "bob")):
        r.board.connect(cid, now_ms(r.clock), Identity(principal=sub, allowed_rooms=("*",)))
    r.board.on_message("a", "join", frame(room="x"))
    r.board.on_message("b", "join", frame(room="x"))
    r.board.on_message("b", "join", frame(room="x"))  # a rejoin: no news
    r.board.disconnect("b")
    events = [(m["event"], m["member"]) for m in got(r, "a") if m.get("event")]
    assert events == [
        ("join", {"connectionId": "b", "sub": "bob"}),
        ("leave", {"connectionId": "b", "sub": "bob"}),
    ]
    assert not [m for m in got(r, "b") if m.get("event")]  # nobody hears of themselves


def test_rooms_past_presence_events_max_get_no_events_but_presence_answers() -> None:
    r = connected("a", "b", "c", limits=Limits(presence_events_max=2))
    for cid in ("a", "b", "c"):
        r.board.on_message(cid, "join", frame(room="x"))
    r.board.on_message("c", "leave", frame(room="x"))
    # c's join made the room 3, past the maximum: no event; back at 2, c's leave has one.
    heard = {cid: [(m["event"], m["member"]["connectionId"]) for m in got(r, cid) if m.get("event")]
             for cid in "abc"}  # fmt: skip
    assert heard == {"a": [("join", "b"), ("leave", "c")], "b": [("leave", "c")], "c": []}
    r.board.on_message("a", "presence", frame(room="x"))
    assert got(r, "a")[-1]["count"] == 2


def test_every_device_of_a_user_is_in_its_user_room_from_connect() -> None:
    r = rig(limits=Limits(max_rooms=1))
    alice = Identity(principal="alice", allowed_rooms=("public:*",))
    for cid in ("phone", "laptop"):
        r.board.connect(cid, now_ms(r.clock), alice)
    r.board.connect("bob", now_ms(r.clock), Identity(principal="bob", allowed_rooms=()))
    published = r.board.publish("user:alice", {"note": "hi"}, None, "backend")
    assert (published.seq, published.recipients, published.duplicate) == (1, 2, False)
    assert [(m["data"], m["from"]) for m in got(r, "phone")] == [({"note": "hi"}, None)]
    assert messages(r, "laptop") == [(1, {"note": "hi"})] and "bob" not in r.publisher.sent
    # Its own room counts toward no MAX_ROOMS, sends no presence events, cannot be left.
    assert r.board.on_message("phone", "join", frame(room="public:a"), alice).error is None
    assert r.board.on_message("phone", "leave", frame(room="user:alice"), alice).error == (
        "own_user_room"
    )
    assert not [m for m in got(r, "laptop") if m.get("event")]


def test_a_backend_publishes_with_an_id_once_and_bad_input_is_refused() -> None:
    r = connected("a")
    r.board.on_message("a", "join", frame(room="x"))
    first = r.board.publish("x", 1, "order-7", "arn:aws:iam::1:role/app")
    again = r.board.publish("x", 1, "order-7", "arn:aws:iam::1:role/app")
    assert (first.seq, first.duplicate, again.seq, again.duplicate) == (1, False, 1, True)
    assert again.recipients == 0 and messages(r, "a") == [(1, 1)]
    everyone = r.board.publish(None, "all", None, "backend")
    assert (everyone.room, everyone.seq, everyone.recipients) == (None, None, 1)
    too_big = r.board.publish("x", "x" * 200_000, None, "backend")
    assert (too_big.error, too_big.seq) == ("payload_too_large", None)
