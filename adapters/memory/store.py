"""In-memory connection store: production code for `switchboard serve`, thread-safe."""

from __future__ import annotations

import bisect
import threading
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from domain.errors import TooManyRooms, UnknownConnection
from domain.frames import Member
from domain.model import Connection
from domain.ports import AudienceReads, ConnectionStore, MessageBudgets

if TYPE_CHECKING:
    from domain.budget import MessageBudget
    from domain.shards import Cursor, Part


class MemoryStore(ConnectionStore, AudienceReads, MessageBudgets):
    """Connections by id, a room index and message budgets; one lock guards them all.

    Parts of everyone are hash buckets of the ids (CRC-32: the same in every process, unlike
    hash()); a part's ids are read as a sorted list, resumed by bisecting it at the cursor.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connections: dict[str, Connection] = {}
        self._rooms: dict[str, set[str]] = {}
        self._tats: dict[str, float] = {}  # each connection's budget (domain/budget.py)

    def add(self, connection: Connection) -> None:
        with self._lock:
            self._drop(connection.connection_id)
            self._connections[connection.connection_id] = connection
            for room in connection.rooms:
                self._rooms.setdefault(room, set()).add(connection.connection_id)

    def get(self, connection_id: str) -> Connection | None:
        with self._lock:
            return self._connections.get(connection_id)

    def remove(self, connection_id: str) -> Connection | None:
        with self._lock:
            return self._drop(connection_id)

    def prune(
        self, connection_ids: Sequence[str], stored_before_ms: int | None, within: float
    ) -> set[str]:
        pruned = set()
        with self._lock:
            for connection_id in connection_ids:
                record = self._connections.get(connection_id)
                if record is not None and _stored_since(record, stored_before_ms):
                    continue
                self._drop(connection_id)
                pruned.add(connection_id)
        return pruned

    def join(self, connection_id: str, room: str, max_rooms: int) -> Connection:
        with self._lock:
            connection = self._existing(connection_id)
            if room not in connection.rooms and len(connection.rooms) >= max_rooms:
                raise TooManyRooms(connection_id, max_rooms)
            updated = replace(connection, rooms=connection.rooms | {room})
            self._connections[connection_id] = updated
            self._rooms.setdefault(room, set()).add(connection_id)
            return updated

    def leave(self, connection_id: str, room: str) -> Connection:
        with self._lock:
            connection = self._existing(connection_id)
            updated = replace(connection, rooms=connection.rooms - {room})
            self._connections[connection_id] = updated
            self._discard_member(room, connection_id)
            return updated

    def connection_ids(self, now: float) -> Iterator[str]:
        with self._lock:  # snapshot, so callers may iterate while others write
            live = [c.connection_id for c in self._connections.values() if c.is_live(now)]
        return iter(live)

    def room_member_ids(self, room: str, now: float) -> Iterator[str]:
        with self._lock:
            members = [
                cid for cid in self._rooms.get(room, ()) if self._connections[cid].is_live(now)
            ]
        return iter(members)

    def room_members(
        self, room: str, now: float, limit: int, exact: bool = True
    ) -> tuple[int, list[Member]]:
        with self._lock:
            live = sorted(
                (cid, self._connections[cid])
                for cid in self._rooms.get(room, ())
                if self._connections[cid].is_live(now)
            )
        members = [
            Member(cid, c.identity.principal if c.identity else None) for cid, c in live[:limit]
        ]
        return len(live), members

    def audience_estimate(self, now: float) -> int:
        with self._lock:
            return len(self._connections)

    def part_ids(self, part: Part, now: float, after: Cursor | None = None) -> Iterator[str]:
        from domain.shards import EveryonePart  # here: only sharded broadcasts need it

        with self._lock:
            if isinstance(part, EveryonePart):
                ids = [
                    cid
                    for cid, connection in self._connections.items()
                    if connection.is_live(now) and _bucket(cid, part.count) == part.index
                ]
            else:
                ids = [
                    cid
                    for cid in self._rooms.get(part.room, ())
                    if part.holds(cid) and self._connections[cid].is_live(now)
                ]
        ids.sort()
        return iter(ids[0 if after is None else bisect.bisect_right(ids, after) :])

    def spend(self, connection_id: str, budget: MessageBudget, now: float) -> bool:
        with self._lock:
            if connection_id not in self._connections:
                return False  # no record: nothing to meter against (as on DynamoDB)
            tat = budget.spend(self._tats.get(connection_id), now)
            if tat is None:
                return False
            self._tats[connection_id] = tat
            return True

    def _existing(self, connection_id: str) -> Connection:
        connection = self._connections.get(connection_id)
        if connection is None:
            raise UnknownConnection(connection_id)
        return connection

    def _drop(self, connection_id: str) -> Connection | None:
        self._tats.pop(connection_id, None)
        connection = self._connections.pop(connection_id, None)
        if connection is None:
            return None
        for room in connection.rooms:
            self._discard_member(room, connection_id)
        return connection

    def _discard_member(self, room: str, connection_id: str) -> None:
        members = self._rooms.get(room)
        if members is not None:
            members.discard(connection_id)
            if not members:
                del self._rooms[room]


def _bucket(connection_id: str, count: int) -> int:
    return zlib.crc32(connection_id.encode()) % count


def _stored_since(record: Connection, stored_before_ms: int | None) -> bool:
    if stored_before_ms is None:
        return False
    stored = record.stored_at_ms if record.stored_at_ms is not None else record.connected_at_ms
    return stored >= stored_before_ms
