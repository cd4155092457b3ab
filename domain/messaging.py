"""Sending a message: its envelope, its place in the room's order and history, its audience.

A room message takes the room's next seq and is kept in the room's history before anyone
gets it, so a member who hears seq N can recover everything up to N. A message to everyone
has no seq and no history. Either way the envelope is built once: its bytes are what every
recipient, and every shard of a sharded broadcast, gets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from domain import frames
from domain.delivery import Delivery, incomplete
from domain.errors import DispatchError, StoreError
from domain.frames import Member
from domain.history import HistoryPolicy
from domain.limits import MAX_PAYLOAD_BYTES
from domain.model import Audience, FanoutResult
from domain.ports import RoomLogs

# A room message is measured with the widest seq it could take (the seq is known only once
# stored), so an envelope that passes here never outgrows the post's limit.
_WIDEST_SEQ = 2**53


@dataclass(frozen=True)
class Sent:
    """What a send did: its seq and id, and its fan-out (posted, or handed to workers)."""

    seq: int | None
    message_id: str
    duplicate: bool = False
    result: Any = None  # FanoutResult, or Dispatched for a sharded broadcast
    error: str | None = None
    message: str = ""


class Messaging:
    def __init__(
        self,
        delivery: Delivery,
        logs: RoomLogs | None,
        history: HistoryPolicy,
        new_id: Callable[[], str],
    ) -> None:
        self._delivery = delivery
        self._logs = logs  # None: no history at all (a store without logs)
        self._history = history
        self._new_id = new_id

    def send(
        self, room: str | None, data: Any, message_id: str | None, sender: Member | None, key: str
    ) -> Sent:
        """`key` names the sender for deduplication (a connection, or a backend's principal)."""
        chosen = message_id or self._new_id()

        def render(seq: int | None) -> bytes:
            return frames.message(room, seq, chosen, sender, data)

        try:
            size = len(render(_WIDEST_SEQ if room else None))
        except UnicodeEncodeError:  # a lone surrogate, legal as a JSON escape ("\ud800")
            text = "The message holds an unpaired surrogate (\\ud800-\\udfff); it is not text."
            return Sent(None, chosen, error="invalid_text", message=text)
        if size > MAX_PAYLOAD_BYTES:
            text = f"The message is {size} bytes; the limit is {MAX_PAYLOAD_BYTES}."
            return Sent(None, chosen, error="payload_too_large", message=text)
        if room is None:
            return self._out(None, chosen, render(None), Audience(None))
        if self._logs is None:
            return self._out(None, chosen, render(None), Audience(room))
        try:
            appended = self._logs.append(
                room, key, chosen, render, self._history, self._delivery.clock.now(),
                deduplicate=message_id is not None,  # a server-made id cannot repeat
            )  # fmt: skip
        except StoreError as error:
            text = f"The message could not be stored, so it was not sent: {error}"
            return Sent(None, chosen, error="not_stored", message=text)
        if appended.duplicate:  # stored and delivered the first time: nothing more to do
            return Sent(appended.seq, chosen, duplicate=True, result=FanoutResult())
        return self._out(appended.seq, chosen, render(appended.seq), Audience(room))

    def deliver(self, payload: bytes, audience: Audience) -> Sent:
        """Bytes as they are (the $default relay's): no envelope, no seq, no history."""
        return self._out(None, "", payload, audience)

    def _out(self, seq: int | None, message_id: str, payload: bytes, audience: Audience) -> Sent:
        try:
            return Sent(seq, message_id, result=self._delivery.broadcast(payload, audience))
        except DispatchError as error:
            return Sent(seq, message_id, error="broadcast_incomplete", message=incomplete(error))
