"""The wire protocol: a frame on a route becomes a command, or an error for the sender.

The frames the server sends back are domain/frames.py's. A backend's publish body (POST
/publish) is checked by the same rules as a sendmessage frame (json_object, message_fields).

Long: every command's fields and their checks, in one place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from domain.rooms import ROOM_PATTERN

DEFAULT_ROUTE = "$default"
# The custom routes our API declares (infra/template.yaml routes them by $request.body.action).
ROUTES = ("sendmessage", "join", "leave", "whoami", "presence")
MAX_ID_LENGTH = 64
# What a client wrote, in JSON's words rather than Python's.
_JSON_TYPES = {
    bool: "a boolean",
    int: "a number",
    float: "a number",
    list: "an array",
    dict: "an object",
}


@dataclass(frozen=True)
class Relay:
    """$default: the frame's text, verbatim, to every connection."""

    text: str


@dataclass(frozen=True)
class SendMessage:
    """sendmessage: `data` (any JSON value) to a room's members, or to everyone, in an envelope;
    `message_id` the sender's own id for it, if it gave one."""

    data: Any
    room: str | None = None
    message_id: str | None = None


@dataclass(frozen=True)
class Join:
    """join: membership of a room; with `since`, the messages after that seq replayed."""

    room: str
    since: int | None = None


@dataclass(frozen=True)
class Leave:
    """leave: the sender's membership of a room ends."""

    room: str


@dataclass(frozen=True)
class WhoAmI:
    """whoami: the sender's own connection id, to the sender."""


@dataclass(frozen=True)
class Presence:
    """presence: who is in a room, to the sender."""

    room: str


@dataclass(frozen=True)
class Invalid:
    """A known action with bad fields: answered to the sender alone, nothing changes."""

    code: str
    message: str


Command = Relay | SendMessage | Join | Leave | WhoAmI | Presence


def parse(route_key: str, body: str) -> Command | Invalid:
    """Turn the frame that API Gateway routed to `route_key` into a command."""
    if route_key not in ROUTES:
        if _non_numeric_json(body):
            return Invalid("invalid_frame", f"The frame uses {_NON_NUMERIC}: they are not JSON.")
        return Relay(body)
    frame = json_object(body, f"The {route_key} frame", "invalid_frame")
    if isinstance(frame, Invalid):
        return frame
    if route_key == "whoami":
        return WhoAmI()
    if route_key == "sendmessage":
        return message_fields(frame, "A sendmessage frame")
    room = _room(frame, required=True)
    if isinstance(room, Invalid):
        return room
    assert room is not None
    if route_key == "join":
        since = _since(frame)
        return since if isinstance(since, Invalid) else Join(room, since)
    return Presence(room) if route_key == "presence" else Leave(room)


_NON_NUMERIC = "NaN, Infinity or -Infinity"


class _NonNumericNumber(ValueError):
    """Python's json reads NaN and Infinity; JSON (RFC 8259) has no such numbers."""


def _refuse_constant(name: str) -> Any:
    raise _NonNumericNumber(name)


def _non_numeric_json(text: str) -> bool:
    """True for a frame that would be JSON but for NaN or Infinity: refused, never relayed as
    a message. Text that is not JSON at all is the $default relay's (the seed's behaviour)."""
    if "NaN" not in text and "Infinity" not in text:  # the common case, without parsing
        return False
    try:
        json.loads(text, parse_constant=_refuse_constant)
    except _NonNumericNumber:
        return True
    except (ValueError, RecursionError):
        return False
    return False


def json_object(text: str, what: str, code: str) -> dict[str, Any] | Invalid:
    """`text` as a JSON object (RFC 8259: no NaN or Infinity), or `code` saying why not;
    `what` names the text in the message ("The join frame", "The body")."""
    try:
        value: Any = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:  # deeper than the parser's stack allows; a frame may be 128 KB
        return Invalid(code, f"{what} nests JSON too deeply.")
    except _NonNumericNumber:
        return Invalid(code, f"{what} uses {_NON_NUMERIC}: not JSON.")
    except ValueError:
        return Invalid(code, f"{what} is not valid JSON.")
    if not isinstance(value, dict):
        return Invalid(code, f"{what} must be a JSON object.")
    return value


def message_fields(frame: dict[str, Any], what: str) -> SendMessage | Invalid:
    """A message's fields (data, optional room and id), checked: a sendmessage frame's, and a
    backend's publish body (`what` names it in the messages)."""
    if "data" not in frame:
        return Invalid("missing_data", f'{what} needs a "data" field.')
    room = _room(frame, required=False)
    if isinstance(room, Invalid):
        return room
    message_id = frame.get("id")
    if message_id is not None and not (
        isinstance(message_id, str) and 1 <= len(message_id) <= MAX_ID_LENGTH
    ):
        return Invalid("invalid_id", f'"id" must be a string of 1 to {MAX_ID_LENGTH} characters.')
    return SendMessage(frame["data"], room, message_id)


def _since(frame: dict[str, Any]) -> int | Invalid | None:
    since = frame.get("since")
    if since is None:
        return None
    if isinstance(since, bool) or not isinstance(since, int) or since < 0:
        return Invalid("invalid_since", '"since" must be a whole number of 0 or more (a seq).')
    return since


def _room(frame: dict[str, Any], required: bool) -> str | Invalid | None:
    if "room" not in frame or (frame["room"] is None and not required):
        if required:
            return Invalid("missing_room", 'This action needs a "room" field.')
        return None
    room = frame["room"]
    if not isinstance(room, str):
        kind = "null" if room is None else _JSON_TYPES.get(type(room), type(room).__name__)
        return Invalid("invalid_room", f'"room" must be a string, not {kind}.')
    if not ROOM_PATTERN.fullmatch(room):
        return Invalid(
            "invalid_room",
            '"room" must be 1 to 128 characters of letters, digits, "_", ".", ":" or "-".',
        )
    return room
