"""In memory: the store, shard checkpoints and a local fan-out queue, for `switchboard serve`.

`open_storage` is the one entry the composition root calls.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from adapters.memory.store import MemoryStore
    from domain.ports import RoomLogs, ShardProgress


class MemoryStorage:
    """Every storage port in this process's memory, for its lifetime."""

    @cached_property
    def connections(self) -> MemoryStore:
        from adapters.memory.store import MemoryStore

        return MemoryStore()

    @property
    def audience(self) -> MemoryStore:
        return self.connections  # one object, one lock: the reads see every write at once

    @property
    def budgets(self) -> MemoryStore:
        return self.connections

    @cached_property
    def logs(self) -> RoomLogs:
        from adapters.memory.logs import MemoryLogs

        return MemoryLogs()

    @cached_property
    def progress(self) -> ShardProgress:
        from adapters.memory.progress import MemoryProgress

        return MemoryProgress()


def open_storage() -> MemoryStorage:
    return MemoryStorage()
