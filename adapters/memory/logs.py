"""Each room's counter and history in memory, for `switchboard serve` and tests: thread-safe,
and bounded like the DynamoDB items' TTL (a room keeps its last `size` messages at most)."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from domain.history import Appended, HistoryPolicy
from domain.ports import RoomLogs


@dataclass
class _Room:
    last: int = 0
    kept: deque[tuple[int, float, bytes]] = field(default_factory=deque)  # seq, expires, bytes
    seen: dict[tuple[str, str], tuple[int, float]] = field(default_factory=dict)  # -> seq, expires


class MemoryLogs(RoomLogs):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rooms: dict[str, _Room] = {}

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
        with self._lock:
            state = self._rooms.setdefault(room, _Room())
            key = (sender, message_id)
            if deduplicate:
                # Oldest first (one ttl for all): drop the expired from the front only.
                while state.seen and next(iter(state.seen.values()))[1] <= now:
                    del state.seen[next(iter(state.seen))]
                if key in state.seen:
                    return Appended(state.seen[key][0], duplicate=True)
            state.last += 1
            state.kept.append((state.last, now + keep.ttl, render(state.last)))
            while len(state.kept) > keep.size:
                state.kept.popleft()
            if deduplicate:
                state.seen[key] = (state.last, now + keep.ttl)
            return Appended(state.last)

    def last_seq(self, room: str) -> int:
        with self._lock:
            state = self._rooms.get(room)
            return state.last if state else 0

    def replay(self, room: str, after: int, keep: HistoryPolicy, now: float) -> list[bytes] | None:
        with self._lock:
            state = self._rooms.get(room)
            last = state.last if state else 0
            if state is None or not keep.can_replay(after, last):
                return None if after != last else []
            wanted = [(seq, expires, body) for seq, expires, body in state.kept if seq > after]
        if len(wanted) != last - after or any(expires <= now for _, expires, _ in wanted):
            return None  # trimmed or expired since
        return [body for _, _, body in wanted]
