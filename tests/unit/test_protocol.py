"""The wire protocol: every route, every bad field, and fuzzed frames that must never raise.

Long: every route and every bad field of the protocol, side by side.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import frames
from domain.frames import Member
from domain.protocol import Invalid, Join, Leave, Presence, Relay, SendMessage, WhoAmI, parse
from domain.rooms import ROOM_PATTERN

ROUTES = ["sendmessage", "join", "leave", "whoami", "presence"]
ANY_ROUTE = [*ROUTES, "$default", "$connect", "nosuchroute", ""]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


def frame(**fields: Any) -> str:
    return json.dumps(fields)


def assert_sentence(result: Invalid) -> None:
    assert re.fullmatch(r"[a-z_]+", result.code), result
    assert result.message.strip() == result.message and result.message.endswith("."), result
    assert result.message[0].isupper() or result.message[0] == '"', result


@pytest.mark.parametrize(
    ("route", "body", "expected"),
    [
        ("sendmessage", frame(action="sendmessage", data="hi"), SendMessage("hi")),
        ("sendmessage", frame(data="hi", room="lobby"), SendMessage("hi", "lobby")),
        ("sendmessage", frame(data=""), SendMessage("")),
        ("sendmessage", frame(data="é ✓"), SendMessage("é ✓")),
        ("join", frame(action="join", room="a.b:c-d_9"), Join("a.b:c-d_9")),
        ("join", frame(room="r" * 128), Join("r" * 128)),
        ("leave", frame(action="leave", room="lobby"), Leave("lobby")),
        ("whoami", frame(action="whoami"), WhoAmI()),
        ("whoami", "{}", WhoAmI()),
        ("sendmessage", frame(data="x", room=None), SendMessage("x")),  # null: everyone
        ("sendmessage", frame(data=1, room="r", id="c1"), SendMessage(1, "r", "c1")),
        ("sendmessage", frame(data=1, id="x" * 64), SendMessage(1, None, "x" * 64)),
        ("join", frame(room="r", since=0), Join("r", 0)),
        ("join", frame(room="r", since=41), Join("r", 41)),
        ("join", frame(room="r", since=None), Join("r")),
        ("presence", frame(action="presence", room="lobby"), Presence("lobby")),
    ],
)
def test_known_routes_become_commands(route: str, body: str, expected: object) -> None:
    assert parse(route, body) == expected


@pytest.mark.parametrize(
    ("data", "_text"),
    [
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (-12, "-12"),
        (1.5, "1.5"),
        ([], "[]"),
        ([1, "a"], '[1, "a"]'),
        ({}, "{}"),
        ({"k": ["é"]}, '{"k": ["é"]}'),
        ("", ""),
        ('{"not": "parsed"}', '{"not": "parsed"}'),
    ],
)
def test_sendmessage_data_of_every_json_type_is_the_value_sent(data: Any, _text: str) -> None:
    result = parse("sendmessage", frame(data=data))
    assert result == SendMessage(data)
    # The envelope carries it as JSON: it reads back as the value that was sent.
    assert isinstance(result, SendMessage)
    envelope = frames.message("r", 1, "i", None, result.data)
    assert json.loads(envelope)["data"] == data


@pytest.mark.parametrize(
    ("route", "body", "code"),
    [
        ("sendmessage", frame(action="sendmessage"), "missing_data"),
        ("sendmessage", frame(room="lobby"), "missing_data"),
        ("sendmessage", frame(data="x", room=""), "invalid_room"),
        ("sendmessage", frame(data="x", room=7), "invalid_room"),
        ("sendmessage", frame(data="x", id=""), "invalid_id"),
        ("sendmessage", frame(data="x", id="x" * 65), "invalid_id"),
        ("sendmessage", frame(data="x", id=7), "invalid_id"),
        ("join", frame(room="r", since=-1), "invalid_since"),
        ("join", frame(room="r", since=1.5), "invalid_since"),
        ("join", frame(room="r", since=True), "invalid_since"),
        ("join", frame(room="r", since="3"), "invalid_since"),
        ("presence", frame(), "missing_room"),
        ("presence", frame(room="a b"), "invalid_room"),
        ("join", frame(action="join"), "missing_room"),
        ("leave", frame(action="leave"), "missing_room"),
        ("join", frame(room=""), "invalid_room"),
        ("join", frame(room="r" * 129), "invalid_room"),
        ("join", frame(room="has space"), "invalid_room"),
        ("join", frame(room="slash/room"), "invalid_room"),
        ("join", frame(room="wild*"), "invalid_room"),
        ("join", frame(room="é"), "invalid_room"),
        ("join", frame(room="lobby\n"), "invalid_room"),
        ("leave", frame(room="x" * 200), "invalid_room"),
        ("join", frame(room=1), "invalid_room"),
        ("join", frame(room=1.5), "invalid_room"),
        ("join", frame(room=True), "invalid_room"),
        ("join", frame(room=None), "invalid_room"),
        ("join", frame(room=["lobby"]), "invalid_room"),
        ("leave", frame(room={"name": "lobby"}), "invalid_room"),
        *[(route, "[1, 2]", "invalid_frame") for route in ROUTES],
        *[(route, '"text"', "invalid_frame") for route in ROUTES],
        *[(route, "null", "invalid_frame") for route in ROUTES],
        *[(route, "3", "invalid_frame") for route in ROUTES],
        *[(route, "not json", "invalid_frame") for route in ROUTES],
        *[(route, "", "invalid_frame") for route in ROUTES],
        *[(route, '{"action": "join"', "invalid_frame") for route in ROUTES],
    ],
)
def test_bad_fields_on_a_known_route_are_invalid(route: str, body: str, code: str) -> None:
    result = parse(route, body)
    assert isinstance(result, Invalid)
    assert result.code == code
    assert_sentence(result)


@pytest.mark.parametrize(
    ("value", "json_name"),
    [(1, "number"), (1.5, "number"), (True, "boolean"), ([], "array"), ({}, "object")],
)
def test_a_wrong_room_type_is_named_as_json_names_it(value: Any, json_name: str) -> None:
    # The client speaks JSON: "not dict" or "not list" names a Python type it never sent.
    result = parse("join", frame(room=value))
    assert isinstance(result, Invalid)
    assert json_name in result.message, result.message


@pytest.mark.parametrize(
    "body",
    ["hello", "", "  spaces  ", '{"action": "sendmessage"}', "[1,2", "é\u0000\t\n", "{}"],
)
@pytest.mark.parametrize("route", ["$default", "nosuchroute", "$connect", "SendMessage"])
def test_default_and_unknown_routes_relay_the_text_verbatim(route: str, body: str) -> None:
    assert parse(route, body) == Relay(body)


@pytest.mark.parametrize("route", ROUTES)
def test_deeply_nested_json_is_an_invalid_frame_not_a_crash(route: str) -> None:
    # 100,000 characters: well inside API Gateway's 128 KB message quota.
    body = "[" * 50_000 + "]" * 50_000
    result = parse(route, body)
    assert isinstance(result, Invalid)
    assert result.code == "invalid_frame"


def test_reply_frames_are_compact_json() -> None:
    assert frames.joined("lobby", 0) == b'{"type":"joined","room":"lobby","seq":0}'
    assert json.loads(frames.joined("lobby", 7, recovered=False)) == {
        "type": "joined", "room": "lobby", "seq": 7, "recovered": False,
    }  # fmt: skip
    assert json.loads(frames.left("lobby")) == {"type": "left", "room": "lobby"}
    assert json.loads(frames.whoami("L0SM9cOFvHcCIhw=")) == {
        "type": "whoami",
        "connectionId": "L0SM9cOFvHcCIhw=",
    }
    error = json.loads(frames.error("invalid_room", "Bad room."))
    assert error == {"type": "error", "error": "invalid_room", "message": "Bad room."}
    assert frames.error("x", "é") == '{"type":"error","error":"x","message":"é"}'.encode()


def test_a_message_envelope_says_who_sent_what_where_and_in_which_position() -> None:
    envelope = frames.message("r", 3, "c1", Member("L0SM9cOFvHcCIhw=", "alice"), {"n": [1, "é"]})
    assert (
        envelope
        == (
            '{"type":"message","room":"r","seq":3,"id":"c1",'
            '"from":{"connectionId":"L0SM9cOFvHcCIhw=","sub":"alice"},"data":{"n":[1,"é"]}}'
        ).encode()
    )
    everyone = json.loads(frames.message(None, None, "x", Member("c=", None), "hi"))
    assert (everyone["room"], everyone["seq"], everyone["from"]["sub"]) == (None, None, None)
    assert json.loads(frames.message("r", 1, "x", None, 0))["from"] is None  # a backend's


def _json_only_with_nan(text: str) -> bool:
    """JSON to Python's lenient reader, not to a strict one (NaN, Infinity)."""

    def refuse(name: str) -> object:
        raise ValueError(name)

    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    try:
        json.loads(text, parse_constant=refuse)
    except ValueError:
        return True
    return False


def check(route: str, body: str) -> None:
    result = parse(route, body)
    assert isinstance(result, Relay | SendMessage | Join | Leave | WhoAmI | Presence | Invalid)
    if isinstance(result, Invalid):
        assert route in ROUTES or _json_only_with_nan(body)
        assert_sentence(result)
    if route not in ROUTES and not _json_only_with_nan(body):
        assert result == Relay(body)
    if isinstance(result, Join | Leave | Presence) or (
        isinstance(result, SendMessage) and result.room
    ):
        room = result.room
        assert room is not None and ROOM_PATTERN.fullmatch(room)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ANY_ROUTE), st.text())
def test_fuzz_arbitrary_text_never_raises(route: str, body: str) -> None:
    check(route, body)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ANY_ROUTE), json_values, st.booleans())
def test_fuzz_arbitrary_json_values_never_raise(route: str, value: Any, ascii_only: bool) -> None:
    check(route, json.dumps(value, ensure_ascii=ascii_only))


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(ROUTES),
    st.dictionaries(
        st.sampled_from(["action", "data", "room", "extra"]) | st.text(max_size=5),
        json_values | st.text(alphabet="abc.:-_*/ ", max_size=130),
        max_size=4,
    ),
)
def test_fuzz_json_objects_with_our_fields_never_raise(route: str, fields: dict[str, Any]) -> None:
    body = json.dumps(fields)
    check(route, body)
    result = parse(route, body)
    if route == "sendmessage" and "data" in fields and isinstance(result, SendMessage):
        assert result.data == fields["data"]
