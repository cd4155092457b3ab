"""The use cases: connect, disconnect, a message on a route (the protocol), and a publish from a
backend; the rules a connection keeps to come first (domain/outcomes.py's Limits)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from domain import frames, protocol
from domain.delivery import Delivery
from domain.errors import StoreError
from domain.fanout import Fanout
from domain.frames import Member
from domain.limits import MAX_PAYLOAD_BYTES
from domain.membership import Membership
from domain.messaging import Messaging, Sent
from domain.model import EVERYONE, Audience, Connection, FanoutResult, Identity
from domain.outcomes import Limits, MessageOutcome, Published
from domain.ports import Clock, ConnectionStore, MessageBudgets, RoomLogs
from domain.rooms import may_enter, user_room

if TYPE_CHECKING:
    from domain.shard_plan import ShardedFanout

log = logging.getLogger(__name__)
__all__ = ["Limits", "MessageOutcome", "Published", "Switchboard"]


def _new_message_id() -> str:
    return uuid.uuid4().hex


class Switchboard:
    """The application: every route's use case, over a store, its rooms' logs and a fan-out."""

    def __init__(
        self,
        store: ConnectionStore,
        fanout: Fanout,
        clock: Clock,
        sharding: ShardedFanout | None = None,
        budgets: MessageBudgets | None = None,
        limits: Limits | None = None,
        logs: RoomLogs | None = None,
        new_id: Callable[[], str] = _new_message_id,
    ) -> None:
        self._store = store
        self._clock = clock
        self._limits = limits or Limits()
        # Without budgets (or with a rate of 0), messages are not metered.
        self._budgets = budgets if self._limits.budget.enabled else None
        self._delivery = Delivery(store, fanout, clock, sharding)
        self._messaging = Messaging(self._delivery, logs, self._limits.history, new_id)
        self._membership = Membership(self._delivery, logs, self._limits)

    def connect(
        self, connection_id: str, connected_at_ms: int, identity: Identity | None = None
    ) -> Connection:
        """Store the connection; one with a `sub` is in its user's room, `user:{sub}`, from now
        until it closes, so a publish to that room reaches every tab and device of the user."""
        stored_at_ms = int(self._clock.now() * 1000)
        connection = Connection.open(connection_id, connected_at_ms, identity, stored_at_ms)
        own = user_room(identity.principal) if identity and identity.principal else None
        if own is not None:
            connection = replace(connection, rooms=frozenset({own}))
        self._store.add(connection)
        return connection

    def disconnect(self, connection_id: str) -> bool:
        """Remove the connection; each room it was in hears that it left."""
        removed = self._store.remove(connection_id)
        if removed is None:
            return False
        self._membership.left_all(removed)
        return True

    def broadcast(self, payload: bytes, audience: Audience = EVERYONE) -> FanoutResult:
        """Post to the whole audience in-process (the sharded path is on_message's)."""
        return self._delivery.everyone_or_room(payload, audience)

    def on_message(
        self, connection_id: str, route_key: str, body: str, identity: Identity | None = None
    ) -> MessageOutcome:
        now = self._clock.now()
        expires = identity.token_expires_at if identity is not None else None
        if expires is not None and now >= expires:
            return self._expired(connection_id)
        if self._budgets is not None and not self._within_budget(connection_id, now):
            message = "Too many messages: this one was dropped. Slow down and send it again."
            return self._delivery.refuse(connection_id, "rate_limited", "rate_limited", message)
        command = protocol.parse(route_key, body)
        refuse = self._delivery.refuse
        match command:
            case protocol.Invalid(code, message):
                return refuse(connection_id, "invalid", code, message)
            case protocol.Relay(text):
                if not _may_broadcast(identity):
                    return refuse(connection_id, "relay", *_no_broadcast())
                return self._relay(connection_id, text)
            case protocol.SendMessage(data, room, message_id):
                if room is None and not _may_broadcast(identity):
                    return refuse(connection_id, "sendmessage", *_no_broadcast())
                if room is not None and not may_enter(identity, room):
                    return refuse(connection_id, "sendmessage", *_forbidden(room))
                sender = Member(connection_id, identity.principal if identity else None)
                sent = self._messaging.send(room, data, message_id, sender, connection_id)
                return self._outcome("sendmessage", connection_id, sent)
            case protocol.Join(room, since):
                if not may_enter(identity, room):
                    return refuse(connection_id, "join", *_forbidden(room))
                return self._membership.join(connection_id, room, since)
            case protocol.Leave(room):
                return self._membership.leave(connection_id, room)
            case protocol.Presence(room):
                return self._membership.presence(connection_id, room, identity)
            case protocol.WhoAmI():
                reply = self._delivery.reply(connection_id, frames.whoami(connection_id))
                return MessageOutcome("whoami", reply=reply)

    def publish(
        self, room: str | None, data: Any, message_id: str | None, publisher: str
    ) -> Published:
        """A message from a backend (POST /publish), to a room or to everyone: the same
        envelope, order and history as a member's, from no connection (`from` is null).
        `publisher` names the backend for deduplication (its IAM principal, say)."""
        sent = self._messaging.send(room, data, message_id, None, f"publisher:{publisher}")
        if sent.error:
            failed = Published(room, None, sent.message_id, 0)
            return replace(failed, error=sent.error, message=sent.message)
        result = sent.result
        sharded = not isinstance(result, FanoutResult)  # handed to fan-out workers
        recipients = result.seen if sharded else result.recipients
        return Published(room, sent.seq, sent.message_id, recipients, sent.duplicate, sharded)

    def _relay(self, connection_id: str, text: str) -> MessageOutcome:
        try:
            payload = text.encode()
        except UnicodeEncodeError:  # a lone surrogate, legal as a JSON escape ("\ud800")
            message = "The message holds an unpaired surrogate (\\ud800-\\udfff); it is not text."
            return self._delivery.refuse(connection_id, "relay", "invalid_text", message)
        if len(payload) > MAX_PAYLOAD_BYTES:
            message = f"The message is {len(payload)} bytes; the limit is {MAX_PAYLOAD_BYTES}."
            return self._delivery.refuse(connection_id, "relay", "payload_too_large", message)
        sent = self._messaging.deliver(payload, EVERYONE)
        return self._outcome("relay", connection_id, sent)

    def _outcome(self, name: str, connection_id: str, sent: Sent) -> MessageOutcome:
        if sent.error:
            return self._delivery.refuse(connection_id, name, sent.error, sent.message)
        if isinstance(sent.result, FanoutResult):
            return MessageOutcome(name, broadcast=sent.result)
        return MessageOutcome(name, sharded=sent.result)

    def _expired(self, connection_id: str) -> MessageOutcome:
        """Tell the sender its token expired, then close its connection (DELETE @connections):
        a connection outlives its token only until its next message."""
        message = "Your token has expired: this connection is closed. Reconnect with a new one."
        outcome = self._delivery.refuse(connection_id, "expired", "token_expired", message)
        self._delivery.fanout.disconnect(connection_id)
        return replace(outcome, closed=True)

    def _within_budget(self, connection_id: str, now: float) -> bool:
        assert self._budgets is not None
        try:
            return self._budgets.spend(connection_id, self._limits.budget, now)
        except StoreError:
            # The meter is down, not the messages: let them through rather than drop every one.
            log.exception("could not meter a message of %s; let through", connection_id)
            return True


def _may_broadcast(identity: Identity | None) -> bool:
    return identity is None or identity.may_broadcast


def _no_broadcast() -> tuple[str, str]:
    return "forbidden", "Your token does not allow messages to everyone (the broadcast claim)."


def _forbidden(room: str) -> tuple[str, str]:
    return "forbidden_room", f"Your token does not allow the room {room!r}."
