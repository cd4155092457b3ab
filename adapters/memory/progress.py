"""Shard checkpoints in memory, for `switchboard serve` and tests; thread-safe and bounded."""

from __future__ import annotations

import threading

from domain.ports import ShardProgress
from domain.shards import Checkpoint


class MemoryProgress(ShardProgress):
    """Checkpoints by shard key. A long `serve` shards many broadcasts: past `limit` shards,
    the oldest checkpoints are forgotten (the role of the DynamoDB item's TTL)."""

    def __init__(self, limit: int = 100_000) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        self._lock = threading.Lock()
        self._limit = limit
        self._checkpoints: dict[str, Checkpoint] = {}  # oldest shard first

    def load(self, key: str) -> Checkpoint | None:
        with self._lock:
            return self._checkpoints.get(key)

    def save(self, key: str, checkpoint: Checkpoint) -> None:
        with self._lock:
            self._checkpoints[key] = checkpoint
            if len(self._checkpoints) > self._limit:
                del self._checkpoints[next(iter(self._checkpoints))]
