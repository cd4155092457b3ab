"""Rooms: joining (with recovery of what was missed), leaving, presence and its events.

Presence events go to a room's members when someone joins or leaves it (a disconnect counts
as leaving), for rooms of up to `presence_events_max` members: past that, an event per member
change would cost the room a post per member, and `presence` still answers. A user's own room
(`user:{sub}`, joined at $connect) sends none.
"""

from __future__ import annotations

from domain import frames
from domain.delivery import Delivery
from domain.errors import StoreError, TooManyRooms, UnknownConnection
from domain.frames import Member
from domain.model import Connection, FanoutResult, Identity
from domain.outcomes import Limits, MessageOutcome
from domain.ports import RoomLogs
from domain.rooms import is_user_room, may_enter


class Membership:
    def __init__(self, delivery: Delivery, logs: RoomLogs | None, limits: Limits) -> None:
        self._delivery = delivery
        self._logs = logs
        self._limits = limits

    def join(self, connection_id: str, room: str, since: int | None) -> MessageOutcome:
        store, now = self._delivery.store, self._delivery.clock.now()
        record = store.get(connection_id)
        if record is None:
            return self._unknown(connection_id, "join")
        was_member = room in record.rooms
        # A user's own room was joined at $connect and is not counted among MAX_ROOMS.
        extra = 1 if any(is_user_room(r) for r in record.rooms) and not is_user_room(room) else 0
        try:
            store.join(connection_id, room, self._limits.max_rooms + extra)
        except UnknownConnection:
            return self._unknown(connection_id, "join")
        except TooManyRooms:
            message = f"This connection is in {self._limits.max_rooms} rooms, the most it may be."
            return self._delivery.refuse(connection_id, "join", "too_many_rooms", message)
        last = self._logs.last_seq(room) if self._logs else 0
        ordered = [frames.joined(room, last)]
        if since is not None:
            missed = self._replay(room, since, last, now)
            ordered = [frames.joined(room, last, recovered=missed is not None), *(missed or [])]
        reply = self._delivery.replies(connection_id, ordered)
        if not was_member:
            reply += self._event(room, "join", _member(record), now)
        return MessageOutcome("join", reply=reply)

    def leave(self, connection_id: str, room: str) -> MessageOutcome:
        store, now = self._delivery.store, self._delivery.clock.now()
        record = store.get(connection_id)
        if record is None:
            return self._unknown(connection_id, "leave")
        if is_user_room(room) and room in record.rooms:
            message = "A user's own room lasts as long as the connection: it cannot be left."
            return self._delivery.refuse(connection_id, "leave", "own_user_room", message)
        try:
            store.leave(connection_id, room)
        except UnknownConnection:
            return self._unknown(connection_id, "leave")
        reply = self._delivery.reply(connection_id, frames.left(room))
        if room in record.rooms:
            reply += self._event(room, "leave", _member(record), now)
        return MessageOutcome("leave", reply=reply)

    def presence(self, connection_id: str, room: str, identity: Identity | None) -> MessageOutcome:
        record = self._delivery.store.get(connection_id)
        member = record is not None and room in record.rooms
        if not member and not may_enter(identity, room):
            message = f"Only the members of {room!r}, or a token that allows it, may ask."
            return self._delivery.refuse(connection_id, "presence", "forbidden_room", message)
        limit = self._limits.presence_list_max
        count, members = self._delivery.store.room_members(room, self._delivery.clock.now(), limit)
        reply = self._delivery.reply(connection_id, frames.presence(room, count, members))
        return MessageOutcome("presence", reply=reply)

    def left_all(self, record: Connection) -> FanoutResult:
        """A disconnect: each room the connection was in hears that it left."""
        now, result = self._delivery.clock.now(), FanoutResult()
        for room in sorted(record.rooms):
            result += self._event(room, "leave", _member(record), now)
        return result

    def _event(self, room: str, event: str, who: Member, now: float) -> FanoutResult:
        if is_user_room(room) or self._limits.presence_events_max == 0:
            return FanoutResult()
        most = self._limits.presence_events_max
        try:
            # Up to most + 1 members: enough to know the room is too big, without counting it.
            count, members = self._delivery.store.room_members(room, now, most + 1, exact=False)
        except StoreError:
            return FanoutResult()  # an event is a courtesy: the room's members can still ask
        if count > most:
            return FanoutResult()
        ids = [m.connection_id for m in members if m.connection_id is not None]
        payload = frames.presence_event(room, event, who)
        return self._delivery.others(payload, ids, but=who.connection_id or "")

    def _replay(self, room: str, since: int, last: int, now: float) -> list[bytes] | None:
        if self._logs is None:
            return None if since < last else []
        if since == last:
            return []
        return self._logs.replay(room, since, self._limits.history, now)

    def _unknown(self, connection_id: str, name: str) -> MessageOutcome:
        message = "This connection has no record (it may have expired); reconnect."
        return self._delivery.refuse(connection_id, name, "unknown_connection", message)


def _member(record: Connection) -> Member:
    identity = record.identity
    return Member(record.connection_id, identity.principal if identity else None)
