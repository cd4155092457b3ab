"""In memory: the store, shard checkpoints and a local fan-out queue, for `switchboard serve`.

`open_storage` is the one entry the composition root calls.
"""

from __future__ import annotations

from domain.ports import Storage


def open_storage() -> Storage:
    """Every storage port in this process's memory, for one process's lifetime."""
    from adapters.memory.progress import MemoryProgress
    from adapters.memory.store import MemoryStore

    store = MemoryStore()
    return Storage(connections=store, audience=store, progress=MemoryProgress())
