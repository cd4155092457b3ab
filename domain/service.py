"""Use cases: connect, disconnect, and a message on a route (the protocol)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from domain import protocol
from domain.budget import MessageBudget
from domain.errors import DispatchError, StoreError, TooManyRooms, UnknownConnection
from domain.fanout import Fanout
from domain.limits import MAX_PAYLOAD_BYTES
from domain.model import EVERYONE, Audience, Connection, FanoutResult, Identity
from domain.ports import Clock, ConnectionStore, MessageBudgets
from domain.rooms import may_enter

if TYPE_CHECKING:  # imported by the composition root when it shards, not by every cold start
    from domain.shard_plan import ShardedFanout
    from domain.shards import Dispatched

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MessageOutcome:
    """What a message did: the command it was, and the fan-out(s) it caused."""

    command: str
    broadcast: FanoutResult | None = None
    reply: FanoutResult | None = None
    error: str | None = None
    sharded: Dispatched | None = None  # a broadcast handed to fan-out workers
    closed: bool = False  # the connection was closed (its token had expired)


@dataclass(frozen=True)
class Limits:
    """What one connection may do: rooms at once, and messages (its budget)."""

    max_rooms: int = 100
    budget: MessageBudget = field(default_factory=MessageBudget)

    def __post_init__(self) -> None:
        if self.max_rooms < 1:
            raise ValueError(f"max_rooms must be at least 1, not {self.max_rooms}")


class Switchboard:
    """The application: every route's use case, over a store and a fan-out."""

    def __init__(
        self,
        store: ConnectionStore,
        fanout: Fanout,
        clock: Clock,
        sharding: ShardedFanout | None = None,
        budgets: MessageBudgets | None = None,
        limits: Limits | None = None,
    ) -> None:
        self._store = store
        self._fanout = fanout
        self._clock = clock
        # Without it, every broadcast is posted in-process, whatever its audience's size.
        self._sharding = sharding
        self._limits = limits or Limits()
        # Without budgets (or with a rate of 0), messages are not metered.
        self._budgets = budgets if self._limits.budget.enabled else None

    def connect(
        self, connection_id: str, connected_at_ms: int, identity: Identity | None = None
    ) -> Connection:
        stored_at_ms = int(self._clock.now() * 1000)
        connection = Connection.open(connection_id, connected_at_ms, identity, stored_at_ms)
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
        now = self._clock.now()
        expires = identity.token_expires_at if identity is not None else None
        if expires is not None and now >= expires:
            return self._expired(connection_id)
        if self._budgets is not None and not self._within_budget(connection_id, now):
            message = "Too many messages: this one was dropped. Slow down and send it again."
            return self._refuse(connection_id, "rate_limited", "rate_limited", message)
        command = protocol.parse(route_key, body)
        match command:
            case protocol.Invalid(code, message):
                return self._refuse(connection_id, "invalid", code, message)
            case protocol.Relay(text):
                if not _may_broadcast(identity):
                    return self._refuse(connection_id, "relay", *_no_broadcast())
                return self._broadcast("relay", connection_id, text, EVERYONE)
            case protocol.SendMessage(data, room):
                if room is None and not _may_broadcast(identity):
                    return self._refuse(connection_id, "sendmessage", *_no_broadcast())
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

    def _expired(self, connection_id: str) -> MessageOutcome:
        """Tell the sender its token expired, then close its connection (DELETE @connections):
        a connection outlives its token only until its next message."""
        message = "Your token has expired: this connection is closed. Reconnect with a new one."
        outcome = self._refuse(connection_id, "expired", "token_expired", message)
        self._fanout.disconnect(connection_id)
        return MessageOutcome(
            outcome.command, reply=outcome.reply, error=outcome.error, closed=True
        )

    def _within_budget(self, connection_id: str, now: float) -> bool:
        assert self._budgets is not None
        try:
            return self._budgets.spend(connection_id, self._limits.budget, now)
        except StoreError:
            # The meter is down, not the messages: let them through rather than drop every one.
            log.exception("could not meter a message of %s; let through", connection_id)
            return True

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
                self._store.join(connection_id, room, self._limits.max_rooms)
                frame = protocol.joined(room)
            else:
                self._store.leave(connection_id, room)
                frame = protocol.left(room)
        except UnknownConnection:
            message = "This connection has no record (it may have expired); reconnect."
            return self._refuse(connection_id, name, "unknown_connection", message)
        except TooManyRooms as error:
            message = f"This connection is in {error.limit} rooms, the most it may be in."
            return self._refuse(connection_id, name, "too_many_rooms", message)
        return MessageOutcome(name, reply=self._reply(connection_id, frame))

    def _refuse(self, connection_id: str, name: str, code: str, message: str) -> MessageOutcome:
        reply = self._reply(connection_id, protocol.error(code, message))
        return MessageOutcome(name, reply=reply, error=code)

    def _reply(self, connection_id: str, frame: bytes) -> FanoutResult:
        return self._fanout.send(frame, [connection_id])


def _may_broadcast(identity: Identity | None) -> bool:
    return identity is None or identity.may_broadcast


def _no_broadcast() -> tuple[str, str]:
    return "forbidden", "Your token does not allow messages to everyone (the broadcast claim)."


def _forbidden(room: str) -> tuple[str, str]:
    return "forbidden_room", f"Your token does not allow the room {room!r}."
