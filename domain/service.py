"""Use cases: connect, disconnect, and a message on a route (the protocol)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from domain import protocol
from domain.errors import DispatchError, UnknownConnection
from domain.fanout import Fanout
from domain.limits import MAX_PAYLOAD_BYTES
from domain.model import EVERYONE, Audience, Connection, FanoutResult, Identity
from domain.ports import Clock, ConnectionStore
from domain.rooms import may_enter

if TYPE_CHECKING:  # imported by the composition root when it shards, not by every cold start
    from domain.shard_plan import ShardedFanout
    from domain.shards import Dispatched


@dataclass(frozen=True)
class MessageOutcome:
    """What a message did: the command it was, and the fan-out(s) it caused."""

    command: str
    broadcast: FanoutResult | None = None
    reply: FanoutResult | None = None
    error: str | None = None
    sharded: Dispatched | None = None  # a broadcast handed to fan-out workers


class Switchboard:
    """The application: every route's use case, over a store and a fan-out."""

    def __init__(
        self,
        store: ConnectionStore,
        fanout: Fanout,
        clock: Clock,
        sharding: ShardedFanout | None = None,
    ) -> None:
        self._store = store
        self._fanout = fanout
        self._clock = clock
        # Without it, every broadcast is posted in-process, whatever its audience's size.
        self._sharding = sharding

    def connect(
        self, connection_id: str, connected_at_ms: int, identity: Identity | None = None
    ) -> Connection:
        connection = Connection.open(connection_id, connected_at_ms, identity)
        self._store.add(connection)
        return connection

    def disconnect(self, connection_id: str) -> bool:
        return self._store.remove(connection_id)

    def broadcast(self, payload: bytes, audience: Audience = EVERYONE) -> FanoutResult:
        """Post to the whole audience in-process (the sharded path is on_message's)."""
        now = self._clock.now()
        if audience.room is None:
            recipients = self._store.connection_ids(now)
        else:
            recipients = self._store.room_member_ids(audience.room, now)
        return self._fanout.send(payload, recipients)

    def on_message(
        self, connection_id: str, route_key: str, body: str, identity: Identity | None = None
    ) -> MessageOutcome:
        command = protocol.parse(route_key, body)
        match command:
            case protocol.Invalid(code, message):
                return self._refuse(connection_id, "invalid", code, message)
            case protocol.Relay(text):
                return self._broadcast("relay", connection_id, text, EVERYONE)
            case protocol.SendMessage(data, room):
                if room is not None and not may_enter(identity, room):
                    return self._refuse(connection_id, "sendmessage", *_forbidden(room))
                return self._broadcast("sendmessage", connection_id, data, Audience(room))
            case protocol.Join(room):
                if not may_enter(identity, room):
                    return self._refuse(connection_id, "join", *_forbidden(room))
                return self._membership("join", connection_id, room)
            case protocol.Leave(room):
                return self._membership("leave", connection_id, room)
            case protocol.WhoAmI():
                reply = self._reply(connection_id, protocol.whoami(connection_id))
                return MessageOutcome("whoami", reply=reply)

    def _broadcast(self, name: str, sender: str, text: str, audience: Audience) -> MessageOutcome:
        try:
            payload = text.encode()
        except UnicodeEncodeError:  # a lone surrogate, legal as a JSON escape ("\ud800")
            message = "The message holds an unpaired surrogate (\\ud800-\\udfff); it is not text."
            return self._refuse(sender, name, "invalid_text", message)
        if len(payload) > MAX_PAYLOAD_BYTES:
            message = f"The message is {len(payload)} bytes; the limit is {MAX_PAYLOAD_BYTES}."
            return self._refuse(sender, name, "payload_too_large", message)
        if self._sharding is None:
            return MessageOutcome(name, broadcast=self.broadcast(payload, audience))
        try:
            sent = self._sharding.send(payload, audience)
        except DispatchError as error:
            message = (
                f"Only part of the audience will get the message: {error.sent} of "
                f"{error.sent + error.failed} shards were queued. Sending it again may "
                "deliver it twice to some."
            )
            return self._refuse(sender, name, "broadcast_incomplete", message)
        if isinstance(sent, FanoutResult):  # small enough to post in-process
            return MessageOutcome(name, broadcast=sent)
        return MessageOutcome(name, sharded=sent)

    def _membership(self, name: str, connection_id: str, room: str) -> MessageOutcome:
        try:
            if name == "join":
                self._store.join(connection_id, room)
                frame = protocol.joined(room)
            else:
                self._store.leave(connection_id, room)
                frame = protocol.left(room)
        except UnknownConnection:
            message = "This connection has no record (it may have expired); reconnect."
            return self._refuse(connection_id, name, "unknown_connection", message)
        return MessageOutcome(name, reply=self._reply(connection_id, frame))

    def _refuse(self, connection_id: str, name: str, code: str, message: str) -> MessageOutcome:
        reply = self._reply(connection_id, protocol.error(code, message))
        return MessageOutcome(name, reply=reply, error=code)

    def _reply(self, connection_id: str, frame: bytes) -> FanoutResult:
        return self._fanout.send(frame, [connection_id])


def _forbidden(room: str) -> tuple[str, str]:
    return "forbidden_room", f"Your token does not allow the room {room!r}."
