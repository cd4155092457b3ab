"""A shard task as a queue message body (JSON), and back, with the endpoint its posts go to.

The payload travels base64-encoded: any bytes survive, and a 128 KB payload (API Gateway's
limit) makes at most about 175 KB of body, under SQS's 256 KB. The posts carry the payload
itself, never this envelope.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, TypeVar

from domain.shards import EveryonePart, Part, RoomPart, ShardTask

VERSION = 2  # 2: a part of everyone is {part, parts} (1 had a Scan's segment, total)
T = TypeVar("T")
# SQS's limit on a message body.
MAX_BODY_BYTES = 256 * 1024


class ShardMessageError(ValueError):
    """A message body is not a shard task this version can run; the message says why."""


def encode(task: ShardTask, endpoint: str) -> str:
    body: dict[str, Any] = {
        "v": VERSION,
        "broadcast": task.broadcast_id,
        "index": task.index,
        "endpoint": endpoint,
        "payload": base64.b64encode(task.payload).decode("ascii"),
    }
    part = task.part
    if isinstance(part, EveryonePart):
        body.update(part=part.index, parts=part.count)
    else:
        body.update(room=part.room, after=part.after, upto=part.upto)
    text = json.dumps(body, separators=(",", ":"))
    if len(text.encode()) > MAX_BODY_BYTES:
        raise ShardMessageError(f"a shard message of {len(text)} bytes exceeds SQS's 256 KB")
    return text


def decode(text: str) -> tuple[ShardTask, str]:
    """The task and its @connections endpoint; ShardMessageError when the body is not one."""
    try:
        body = json.loads(text)
    except (json.JSONDecodeError, TypeError) as error:
        raise ShardMessageError(f"the body is not JSON: {error}") from None
    if not isinstance(body, dict):
        raise ShardMessageError("the body is not a JSON object")
    if body.get("v") != VERSION:
        raise ShardMessageError(f"version {body.get('v')!r} is not {VERSION}")
    try:
        payload = base64.b64decode(_field(body, "payload", str), validate=True)
    except binascii.Error as error:
        raise ShardMessageError(f"the payload is not base64: {error}") from None
    task = ShardTask(
        _field(body, "broadcast", str), _field(body, "index", int), _part(body), payload
    )
    return task, _field(body, "endpoint", str)


def _part(body: dict[str, Any]) -> Part:
    try:
        if "part" in body:
            return EveryonePart(_field(body, "part", int), _field(body, "parts", int))
        if "room" in body:
            after, upto = body.get("after"), body.get("upto")
            for name, value in (("after", after), ("upto", upto)):
                if value is not None and not isinstance(value, str):
                    raise ShardMessageError(f"{name!r} must be a string or null")
            return RoomPart(_field(body, "room", str), after, upto)
    except ValueError as error:  # the part's own checks (an index out of range...)
        raise ShardMessageError(str(error)) from None
    raise ShardMessageError("the body names neither a part of everyone nor a room")


def _field(body: dict[str, Any], name: str, kind: type[T]) -> T:
    value = body.get(name)
    # bool is an int to Python, not to JSON: refuse `true` where a number belongs.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ShardMessageError(f"{name!r} must be a {kind.__name__}, not {value!r}")
    return value
