"""Switchboard's use cases, example by example: who gets what, and what the sender hears.

Long: each use case with its examples, over one shared rig.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from domain import frames
from domain.frames import Member
from domain.limits import MAX_CONNECTION_SECONDS, MAX_PAYLOAD_BYTES
from domain.model import Audience, Identity

from .fault_rig import Rig, now_ms, rig


def frame(**fields: Any) -> str:
    return json.dumps(fields)


def connected(*ids: str) -> Rig:
    r = rig()
    for connection_id in ids:
        r.board.connect(connection_id, now_ms(r.clock))
    return r


def inbox(r: Rig) -> dict[str, list[Any]]:
    """What each connection received, decoded where it is JSON."""

    def decode(payload: bytes) -> Any:
        try:
            return json.loads(payload)
        except ValueError:
            return payload.decode()

    return {cid: [decode(p) for p in sent] for cid, sent in r.publisher.sent.items() if sent}


def datas(r: Rig) -> dict[str, list[Any]]:
    """The `data` of each message envelope each connection received."""
    return {
        cid: [m["data"] for m in got if isinstance(m, dict) and m.get("type") == "message"]
        for cid, got in inbox(r).items()
    }


def rooms_of(r: Rig, connection_id: str) -> frozenset[str]:
    connection = r.store.get(connection_id)
    assert connection is not None
    return connection.rooms


def test_connect_records_the_connection_until_api_gateway_would_close_it() -> None:
    r = rig()
    identity = Identity(source_ip="127.0.0.1", principal="alice")
    connection = r.board.connect("a", 1_700_000_000_123, identity)
    assert r.store.get("a") == connection
    assert connection.expires_at == 1_700_000_000 + MAX_CONNECTION_SECONDS
    # With a sub, the connection is in its user's own room from the start.
    assert connection.identity == identity and connection.rooms == {"user:alice"}
    assert r.board.connect("b", 1_700_000_000_123).rooms == frozenset()


def test_disconnect_removes_the_connection_and_its_rooms() -> None:
    r = connected("a", "b")
    r.board.on_message("a", "join", frame(room="lobby"))
    assert r.board.disconnect("a") is True
    assert r.board.disconnect("a") is False
    assert r.store.get("a") is None
    assert list(r.store.room_member_ids("lobby", r.clock.now())) == []


def test_sendmessage_reaches_everyone_once_the_sender_included() -> None:
    r = connected("a", "b", "c")
    outcome = r.board.on_message("a", "sendmessage", frame(action="sendmessage", data="hi"))
    envelope = {
        "type": "message", "room": None, "seq": None, "id": "m1",
        "from": {"connectionId": "a", "sub": None}, "data": "hi",
    }  # fmt: skip
    assert inbox(r) == {"a": [envelope], "b": [envelope], "c": [envelope]}
    assert outcome.command == "sendmessage" and outcome.error is None
    assert outcome.broadcast is not None and outcome.broadcast.delivered == 3


def test_a_room_message_reaches_the_members_alone() -> None:
    r = connected("a", "b", "c")
    for cid in ("a", "b"):
        r.board.on_message(cid, "join", frame(room="lobby"))
    r.publisher.sent.clear()
    r.board.on_message("c", "sendmessage", frame(data={"n": 1}, room="lobby", id="c1"))
    envelope = {
        "type": "message", "room": "lobby", "seq": 1, "id": "c1",
        "from": {"connectionId": "c", "sub": None}, "data": {"n": 1},
    }  # fmt: skip
    assert inbox(r) == {"a": [envelope], "b": [envelope]}


def test_a_room_nobody_is_in_reaches_nobody() -> None:
    r = connected("a")
    outcome = r.board.on_message("a", "sendmessage", frame(data="x", room="empty"))
    assert inbox(r) == {}
    assert outcome.broadcast is not None and outcome.broadcast.recipients == 0


def test_default_relays_the_frame_verbatim_to_everyone() -> None:
    r = connected("a", "b")
    r.board.on_message("a", "$default", "not json {")
    assert dict(r.publisher.sent) == {"a": [b"not json {"], "b": [b"not json {"]}


def test_join_leave_and_whoami_answer_the_sender_alone() -> None:
    r = connected("a", "b")
    r.board.on_message("a", "join", frame(action="join", room="lobby"))
    assert rooms_of(r, "a") == {"lobby"}
    r.board.on_message("a", "whoami", frame(action="whoami"))
    r.board.on_message("a", "leave", frame(action="leave", room="lobby"))
    assert rooms_of(r, "a") == frozenset()
    assert inbox(r) == {
        "a": [
            {"type": "joined", "room": "lobby", "seq": 0},
            {"type": "whoami", "connectionId": "a"},
            {"type": "left", "room": "lobby"},
        ]
    }


@pytest.mark.parametrize(
    ("route", "body", "code"),
    [
        ("join", frame(room="bad room"), "invalid_room"),
        ("sendmessage", frame(room="lobby"), "missing_data"),
        ("leave", "[]", "invalid_frame"),
        ("whoami", "not json", "invalid_frame"),
    ],
)
def test_a_bad_frame_answers_the_sender_alone_and_changes_nothing(
    route: str, body: str, code: str
) -> None:
    r = connected("a", "b")
    r.board.on_message("a", "join", frame(room="lobby"))
    r.publisher.sent.clear()
    before = r.store.get("a")
    outcome = r.board.on_message("a", route, body)
    assert outcome.error == code
    [reply] = inbox(r)["a"]
    assert set(inbox(r)) == {"a"}
    assert reply["type"] == "error" and reply["error"] == code and reply["message"]
    assert r.store.get("a") == before


def test_joining_without_a_record_says_so() -> None:
    r = rig()
    outcome = r.board.on_message("ghost", "join", frame(room="lobby"))
    assert outcome.error == "unknown_connection"
    assert inbox(r)["ghost"][0]["error"] == "unknown_connection"


def test_the_token_limits_join_and_room_messages() -> None:
    r = rig()
    identity = Identity(principal="alice", allowed_rooms=("public:*", "user:{sub}"))
    r.board.connect("a", now_ms(r.clock), identity)
    r.board.connect("b", now_ms(r.clock))
    r.board.on_message("b", "join", frame(room="user:bob"))
    assert r.board.on_message("a", "join", frame(room="user:bob"), identity).error == (
        "forbidden_room"
    )
    sent = r.board.on_message("a", "sendmessage", frame(data="x", room="user:bob"), identity)
    assert sent.error == "forbidden_room"
    assert r.board.on_message("a", "join", frame(room="user:alice"), identity).error is None
    assert r.board.on_message("a", "join", frame(room="public:x"), identity).error is None
    assert rooms_of(r, "a") == {"user:alice", "public:x"}
    assert "b" not in inbox(r) or all(m.get("type") == "joined" for m in inbox(r)["b"])


def test_a_payload_over_the_quota_is_refused_to_the_sender() -> None:
    r = connected("a", "b")
    envelope = len(frames.message(None, None, "m1", Member("a", None), ""))
    fits = "x" * (MAX_PAYLOAD_BYTES - envelope)  # the envelope and all: exactly the quota
    assert r.board.on_message("a", "sendmessage", frame(data=fits)).error is None
    r.publisher.sent.clear()
    outcome = r.board.on_message("a", "sendmessage", frame(data=fits + "é"))
    assert outcome.error == "payload_too_large"
    assert set(inbox(r)) == {"a"}


def test_expired_connections_get_nothing() -> None:
    r = connected("old")
    r.clock.advance(MAX_CONNECTION_SECONDS - 1)
    r.board.connect("new", now_ms(r.clock))
    r.board.broadcast(b"x")
    r.clock.advance(2)
    r.board.broadcast(b"y")
    assert dict(r.publisher.sent) == {"old": [b"x"], "new": [b"x", b"y"]}
    assert r.board.broadcast(b"z", Audience("lobby")).recipients == 0


@pytest.mark.parametrize(
    ("route", "body"),
    [
        ("sendmessage", '{"data": "\\ud800"}'),  # a lone surrogate, legal as a JSON escape
        ("sendmessage", '{"data": ["\\udfff"]}'),
        ("$default", "\ud800"),
    ],
)
def test_text_that_is_not_unicode_is_refused_not_raised(route: str, body: str) -> None:
    r = connected("a", "b")
    outcome = r.board.on_message("a", route, body)
    assert outcome.error is not None
    assert set(inbox(r)) == {"a"}
