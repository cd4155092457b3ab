"""Posting what a use case decided: a frame to the sender, frames in order, a broadcast to an
audience (in-process, or handed to fan-out workers above the sharding threshold)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain import frames
from domain.errors import DispatchError
from domain.fanout import Fanout
from domain.model import Audience, FanoutResult
from domain.outcomes import MessageOutcome
from domain.ports import Clock, ConnectionStore

if TYPE_CHECKING:
    from domain.shard_plan import ShardedFanout
    from domain.shards import Dispatched


class Delivery:
    """The one way use cases post: through the fan-out, or the sharded fan-out when there is one."""

    def __init__(
        self,
        store: ConnectionStore,
        fanout: Fanout,
        clock: Clock,
        sharding: ShardedFanout | None = None,
    ) -> None:
        self.store = store
        self.fanout = fanout
        self.clock = clock
        # Without it, every broadcast is posted in-process, whatever its audience's size.
        self._sharding = sharding

    def reply(self, connection_id: str, frame: bytes) -> FanoutResult:
        return self.fanout.send(frame, [connection_id])

    def replies(self, connection_id: str, ordered: list[bytes]) -> FanoutResult:
        """Frames to one connection, each posted after the one before it went out."""
        result = FanoutResult()
        for frame in ordered:
            result += self.reply(connection_id, frame)
        return result

    def refuse(self, connection_id: str, name: str, code: str, message: str) -> MessageOutcome:
        reply = self.reply(connection_id, frames.error(code, message))
        return MessageOutcome(name, reply=reply, error=code)

    def everyone_or_room(self, payload: bytes, audience: Audience) -> FanoutResult:
        """Post to the whole audience in-process."""
        now = self.clock.now()
        if audience.room is None:
            recipients = self.store.connection_ids(now)
        else:
            recipients = self.store.room_member_ids(audience.room, now)
        return self.fanout.send(payload, recipients)

    def broadcast(self, payload: bytes, audience: Audience) -> FanoutResult | Dispatched:
        """In-process up to the sharding threshold, handed to workers above it; raises
        DispatchError when some shards could not be handed over (the rest were)."""
        if self._sharding is None:
            return self.everyone_or_room(payload, audience)
        return self._sharding.send(payload, audience)

    def others(self, payload: bytes, connection_ids: list[str], but: str) -> FanoutResult:
        """To the given connections, the one named `but` aside."""
        return self.fanout.send(payload, [cid for cid in connection_ids if cid != but])


def incomplete(error: DispatchError) -> str:
    return (
        f"Only part of the audience will get the message: {error.sent} of "
        f"{error.sent + error.failed} shards were queued. Sending it again may deliver it "
        "twice to some."
    )
