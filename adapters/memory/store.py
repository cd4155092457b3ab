"""In-memory connection store: production code for `switchboard serve`, thread-safe."""

from __future__ import annotations

import threading
import zlib
from collections.abc import Iterator
from dataclasses import replace

from domain.errors import UnknownConnection
from domain.model import Connection
from domain.ports import ConnectionStore, ShardReads


class MemoryStore(ConnectionStore, ShardReads):
    """Connections by id, and a room index; one lock guards both.

    Shard reads mirror DynamoDB's: a segment holds the ids whose CRC-32 falls in it (stable
    across processes, unlike hash()), read in ascending id order; room ranges ascend by id.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connections: dict[str, Connection] = {}
        self._rooms: dict[str, set[str]] = {}

    def add(self, connection: Connection) -> None:
        with self._lock:
            self._drop(connection.connection_id)
            self._connections[connection.connection_id] = connection
            for room in connection.rooms:
                self._rooms.setdefault(room, set()).add(connection.connection_id)

    def get(self, connection_id: str) -> Connection | None:
        with self._lock:
            return self._connections.get(connection_id)

    def remove(self, connection_id: str) -> bool:
        with self._lock:
            return self._drop(connection_id)

    def join(self, connection_id: str, room: str) -> Connection:
        with self._lock:
            connection = self._existing(connection_id)
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

    def recipient_estimate(self) -> int:
        with self._lock:
            return len(self._connections)

    def segment_ids(
        self, now: float, segment: int, total: int, after: str | None = None
    ) -> Iterator[str]:
        if not 0 <= segment < total:
            raise ValueError(f"segment must be in [0, {total}), not {segment}")
        with self._lock:
            ids = [
                c.connection_id
                for c in self._connections.values()
                if c.is_live(now) and zlib.crc32(c.connection_id.encode()) % total == segment
            ]
        return iter(sorted(i for i in ids if after is None or i > after))

    def room_range_ids(
        self, room: str, now: float, after: str | None = None, upto: str | None = None
    ) -> Iterator[str]:
        members = self.room_member_ids(room, now)
        return iter(
            sorted(
                m for m in members if (after is None or m > after) and (upto is None or m <= upto)
            )
        )

    def _existing(self, connection_id: str) -> Connection:
        connection = self._connections.get(connection_id)
        if connection is None:
            raise UnknownConnection(connection_id)
        return connection

    def _drop(self, connection_id: str) -> bool:
        connection = self._connections.pop(connection_id, None)
        if connection is None:
            return False
        for room in connection.rooms:
            self._discard_member(room, connection_id)
        return True

    def _discard_member(self, room: str, connection_id: str) -> None:
        members = self._rooms.get(room)
        if members is not None:
            members.discard(connection_id)
            if not members:
                del self._rooms[room]
