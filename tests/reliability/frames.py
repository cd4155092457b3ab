"""Hypothesis strategies for frames a client might send, and what a bystander should see of each.

`bystander_sees` is the protocol of the README, written out again independently of the code
under test: $default relays a frame verbatim to everyone; sendmessage without a room sends its
data to everyone in a message envelope (no room, no seq, the sender's id, its id or one the
server made); the rest answers the sender alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from domain.limits import MAX_FRAME_BYTES, MAX_PAYLOAD_BYTES

ROUTES = ("sendmessage", "join", "leave", "whoami", "presence")
MAX_ID_LENGTH = 64
# The envelope around the data: type, room, seq, a 64-character id, the sender's id, with room
# to spare (frames stay under 32 KB, so no fuzzed message comes near the 128 KB post limit).
ENVELOPE_BYTES = 256
MAX_NESTING = 500  # deeper JSON is not searched for `action` by the local gateway: $default

# Any code point a WebSocket text frame can carry: everything but the lone surrogates.
characters = st.characters(exclude_categories=["Cs"])
controls = st.characters(categories=["Cc", "Cf", "Zl", "Zp"])
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(characters, max_size=40)
    # Lone surrogates exist in JSON as escapes ("\ud800"), never in the frame's UTF-8 itself.
    | st.text(st.characters(categories=["Cs"]), min_size=1, max_size=3)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=25,
)
rooms = st.text(max_size=20) | st.sampled_from(["lobby", "public:x", "a" * 128, "a" * 129, ""])


def _dumps(value: Any, ascii_only: bool) -> str:
    text = json.dumps(value, ensure_ascii=ascii_only)
    text.encode()  # a lone surrogate cannot be sent as UTF-8: such values stay escaped
    return text


def _json_frame(value: Any, ascii_only: bool) -> str:
    try:
        return _dumps(value, ascii_only)
    except UnicodeEncodeError:
        return _dumps(value, True)


actions = st.fixed_dictionaries(
    {"action": st.sampled_from([*ROUTES, "nope", "SendMessage"]) | st.text(max_size=12)},
    optional={
        "room": rooms | json_values,
        "data": json_values,
        "id": st.text(max_size=70) | json_values,
        "since": st.integers(-2, 5) | json_values,
        "extra": json_values,
    },
)
# Nesting deeper than any parser's stack, as long as it fits in a frame.
_CLOSERS = {"[": "]", '{"a":': "}"}
deep = st.builds(
    lambda depth, opener, action: (
        f'{{"action":"{action}","data":{opener * depth}0{_CLOSERS[opener] * depth}}}'
    ),
    st.integers(1, 6_000),
    st.sampled_from(sorted(_CLOSERS)),
    st.sampled_from(["sendmessage", "join", "whoami", "nope"]),
)
near_limit = st.builds(
    lambda size, unit: unit * (size // len(unit.encode())),
    st.integers(MAX_FRAME_BYTES - 64, MAX_FRAME_BYTES + 64),
    st.sampled_from(["x", "é", "€", "😀"]),
)
frames = st.one_of(
    st.text(characters, max_size=200),
    st.text(controls, max_size=50),
    st.builds(_json_frame, json_values, st.booleans()),
    st.builds(_json_frame, actions, st.booleans()),
    deep,
    near_limit,
)


class _LenientOnly(ValueError):
    """NaN, Infinity or -Infinity: Python's json reads them, JSON has no such numbers."""


def _not_json(constant: str) -> Any:
    raise _LenientOnly(constant)


@dataclass(frozen=True)
class Envelope:
    """A message envelope to everyone: what a bystander gets of a sendmessage without a room."""

    data: Any
    message_id: str | None  # None: the server makes one

    def matches(self, text: str, sender: str) -> bool:
        got = json.loads(text)
        expected = {
            "type": "message",
            "room": None,
            "seq": None,
            "id": self.message_id or got.get("id"),
            "from": {"connectionId": sender, "sub": None},
            "data": self.data,
        }
        return bool(got == expected and isinstance(got["id"], str) and got["id"])


def bystander_sees(frame: str) -> str | Envelope | None:
    """The one frame another connection gets for `frame` (a relay's text, or an envelope), or
    None when it gets nothing."""
    if len(frame.encode()) > MAX_FRAME_BYTES:
        return None  # the gateway closes the sender's connection (1009) instead
    try:
        value = json.loads(frame, parse_constant=_not_json)
    except _LenientOnly:
        return None  # JSON only to a lenient reader (NaN, Infinity): refused, invalid_frame
    except (ValueError, RecursionError):
        return frame  # not JSON (or too deep to read as JSON): $default relays it
    if not isinstance(value, dict) or value.get("action") not in ROUTES:
        return frame
    if _nesting(value) > MAX_NESTING:
        return frame
    if value["action"] != "sendmessage" or "data" not in value or value.get("room") is not None:
        return None  # an answer to the sender, or a room the bystander is not in
    message_id = value.get("id")
    if message_id is not None and not (
        isinstance(message_id, str) and 1 <= len(message_id) <= MAX_ID_LENGTH
    ):
        return None  # invalid_id, to the sender
    data = value["data"]
    try:
        size = len(json.dumps(data, ensure_ascii=False).encode())
    except UnicodeEncodeError:  # a lone surrogate: refused to the sender
        return None
    return Envelope(data, message_id) if size + ENVELOPE_BYTES <= MAX_PAYLOAD_BYTES else None


def _nesting(value: Any) -> int:
    """How many arrays and objects deep `value` goes (without recursing: it may be deep)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest
