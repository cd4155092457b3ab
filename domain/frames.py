"""The frames the server sends: message envelopes, answers to the sender, presence, errors.

Every frame is compact JSON (no spaces), non-ASCII text kept as it is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Member:
    """One connection in a room, as presence shows it: `sub` is null without an authorizer."""

    connection_id: str
    sub: str | None

    def as_json(self) -> dict[str, Any]:
        return {"connectionId": self.connection_id, "sub": self.sub}


def message(
    room: str | None, seq: int | None, message_id: str, sender: Member | None, data: Any
) -> bytes:
    """A message's envelope: built once, posted as these very bytes to every recipient (every
    shard of a sharded broadcast too) and kept in the room's history for replay. `sender` is
    None for a backend's publish: `from` is then null."""
    return _frame(
        {
            "type": "message",
            "room": room,
            "seq": seq,
            "id": message_id,
            "from": sender.as_json() if sender is not None else None,
            "data": data,
        }
    )


def joined(room: str, seq: int, recovered: bool | None = None) -> bytes:
    """The answer to a join: the room's latest seq, and with `since`, whether the missed
    messages follow (recovered) or the client must reload from the app (not recovered)."""
    answer: dict[str, Any] = {"type": "joined", "room": room, "seq": seq}
    if recovered is not None:
        answer["recovered"] = recovered
    return _frame(answer)


def left(room: str) -> bytes:
    return _frame({"type": "left", "room": room})


def whoami(connection_id: str) -> bytes:
    return _frame({"type": "whoami", "connectionId": connection_id})


def presence(room: str, count: int, members: list[Member]) -> bytes:
    members_json = [m.as_json() for m in members]
    return _frame({"type": "presence", "room": room, "count": count, "members": members_json})


def presence_event(room: str, event: str, member: Member) -> bytes:
    """Someone joined or left: `event` is "join" or "leave"."""
    return _frame({"type": "presence", "room": room, "event": event, "member": member.as_json()})


def error(code: str, message: str) -> bytes:
    return _frame({"type": "error", "error": code, "message": message})


def _frame(value: dict[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
