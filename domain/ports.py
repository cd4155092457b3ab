"""Ports: the Protocols that adapters implement and the domain depends on."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

from domain.model import Connection, Grant, PostOutcome

if TYPE_CHECKING:  # imported by the code that uses them, when it does
    from domain.budget import MessageBudget
    from domain.frames import Member
    from domain.history import Appended, HistoryPolicy
    from domain.shards import Checkpoint, Cursor, Part, ShardTask


class ConnectionStore(Protocol):
    """Keeps live connections and their room memberships."""

    def add(self, connection: Connection) -> None:
        """Record a new connection (replacing any record with the same id)."""
        ...

    def get(self, connection_id: str) -> Connection | None:
        """The connection's record, or None when there is none."""
        ...

    def remove(self, connection_id: str) -> Connection | None:
        """Delete the connection and every membership it has; its record, or None if it had
        none.

        Raises StoreError when the removal could not be completed.
        """
        ...

    def prune(
        self, connection_ids: Sequence[str], stored_before_ms: int | None, within: float
    ) -> set[str]:
        """Remove connections the @connections API called gone, with their memberships, side by
        side, spending at most `within` seconds; the ids removed, or already without a record.

        A connection whose record was stored at or after `stored_before_ms` (epoch ms; None:
        no such guard) is kept: it may be about to finish its handshake. An id that could not
        be removed (an error, or out of time) is left out, logged, and left for a later prune.
        """
        ...

    def join(self, connection_id: str, room: str, max_rooms: int) -> Connection:
        """Add the connection to a room, in one atomic write; raises UnknownConnection when it
        has no record, TooManyRooms when it is in `max_rooms` other rooms already."""
        ...

    def leave(self, connection_id: str, room: str) -> Connection:
        """Remove the connection from a room, in one atomic write; raises UnknownConnection
        when it has no record."""
        ...

    def connection_ids(self, now: float) -> Iterator[str]:
        """Every live (not expired at `now`, epoch seconds) connection id, reading all pages."""
        ...

    def room_member_ids(self, room: str, now: float) -> Iterator[str]:
        """The live members of a room, reading all pages."""
        ...

    def room_members(
        self, room: str, now: float, limit: int, exact: bool = True
    ) -> tuple[int, list[Member]]:
        """How many live members the room has, and at most `limit` of them. The count is exact
        with `exact`; without, it may stop at `limit` (no reading of a big room's every page)."""
        ...


class AudienceReads(Protocol):
    """The reads that split a broadcast's audience into parts, and let a worker resume one."""

    def audience_estimate(self, now: float) -> int:
        """About how many connections are live at `now`; rough, and never more than a
        sample's error from the truth (it sizes parts only)."""
        ...

    def part_ids(self, part: Part, now: float, after: Cursor | None = None) -> Iterator[str]:
        """The live ids of `part`, reading all pages, in an order fixed for the part, after the
        cursor `after` (one this method yielded before, even of a connection removed since).

        A RoomPart's ids ascend, so a read of a whole room can also plan its ranges.
        """
        ...


class RoomLogs(Protocol):
    """Each room's counter and history (domain/history.py)."""

    def append(
        self,
        room: str,
        sender: str,
        message_id: str,
        render: Callable[[int], bytes],
        keep: HistoryPolicy,
        now: float,
        deduplicate: bool = True,
    ) -> Appended:
        """Give the message the room's next seq and keep `render(seq)`, its envelope.

        With `deduplicate`, the same `message_id` from the same `sender` within `keep.ttl` is
        kept once: the second append returns the first one's seq, duplicate=True, and
        renders nothing. Raises StoreError when the message could not be stored.
        """
        ...

    def last_seq(self, room: str) -> int:
        """The room's latest seq; 0 for a room never used."""
        ...

    def replay(self, room: str, after: int, keep: HistoryPolicy, now: float) -> list[bytes] | None:
        """The envelopes of the messages after `after`, in seq order; None when the history no
        longer holds `after + 1` (trimmed, or expired at `now`), or `after` is past the last."""
        ...


class ShardDispatcher(Protocol):
    """Hands shard tasks to fan-out workers (a queue, or a local pool)."""

    def dispatch(self, tasks: Iterable[ShardTask]) -> int:
        """Hand over every task, reading `tasks` lazily; returns how many were handed over.

        Raises DispatchError, after trying every task, when some could not be.
        """
        ...


class ShardProgress(Protocol):
    """Where each shard got to, kept outside the worker so that a retry can resume."""

    def load(self, key: str) -> Checkpoint | None:
        """The shard's last checkpoint, or None before its first."""
        ...

    def save(self, key: str, checkpoint: Checkpoint) -> None:
        """Record the checkpoint (replacing the last); raises StoreError when it cannot."""
        ...


class Publisher(Protocol):
    """Posts to connections, and closes them, through the @connections API."""

    def post(self, payload: bytes, connection_ids: Sequence[str]) -> Mapping[str, PostOutcome]:
        """Post `payload` to each id once; report an outcome for every id given.

        Never raises for a per-connection failure: it is reported as an outcome.
        """
        ...

    def disconnect(self, connection_id: str) -> PostOutcome:
        """Close the connection (DELETE @connections/{id}): DELIVERED when it is closing, GONE
        when it was gone already; never raises."""
        ...


class MessageBudgets(Protocol):
    """Each connection's message budget (domain/budget.py), kept where every instance sees it."""

    def spend(self, connection_id: str, budget: MessageBudget, now: float) -> bool:
        """Spend one message of the connection's budget; False when it is over budget.

        Raises StoreError when the budget could not be read or written.
        """
        ...


class Clock(Protocol):
    """Time, so that the domain stays deterministic under test."""

    def now(self) -> float:
        """Seconds since the epoch: for what is stored (expiry times)."""
        ...

    def elapsed(self) -> float:
        """Seconds since a fixed start of this clock: for durations and deadlines. Measured
        from a start, not an epoch, a short duration keeps its precision (at an epoch of 1.7e9
        a float cannot hold 1e-5)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait (a fake clock just advances)."""
        ...


class TokenVerifier(Protocol):
    """Checks a signed token (signature, expiry, issuer, audience) and reads its grant."""

    def verify(self, token: str) -> Grant:
        """The token's grant; raises InvalidToken saying what was wrong."""
        ...


class Storage(Protocol):
    """What one storage technology provides, opened at once by its package (`open_storage`);
    a part may be built on first use, so a process pays only for the parts it uses."""

    @property
    def connections(self) -> ConnectionStore: ...

    @property
    def audience(self) -> AudienceReads: ...

    @property
    def progress(self) -> ShardProgress: ...

    @property
    def budgets(self) -> MessageBudgets: ...

    @property
    def logs(self) -> RoomLogs: ...
