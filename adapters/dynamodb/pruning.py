"""Pruning gone connections on DynamoDB: many at once, on a bounded pool of threads, within the
time the broadcast has left.

One removal is a Query of the connection's partition (its record's storedAt, and the keys of
its memberships and budget), a batch delete of those, and the record's delete, last: three
round trips. One after another, a thousand gone connections took a thousand times that; side
by side, `concurrency` of them are in flight at once (boto3 clients are thread-safe).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait

from domain.errors import StoreError

log = logging.getLogger(__name__)

# Removes one connection unless its record was stored since the cutoff; True when removed (or
# it had no record), False when kept. Raises StoreError when DynamoDB refused.
RemoveOne = Callable[[str, "int | None"], bool]


class Pruner:
    """Runs RemoveOne for many ids at once; the pool is made on first use and kept."""

    def __init__(self, remove_one: RemoveOne, concurrency: int = 16) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        self._remove_one = remove_one
        self._concurrency = concurrency
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    def prune(self, ids: Sequence[str], stored_before_ms: int | None, within: float) -> set[str]:
        if not ids or within <= 0:
            if ids:
                log.warning("no time left to prune %d gone connections", len(ids))
            return set()
        futures = {self._executor().submit(self._one, cid, stored_before_ms): cid for cid in ids}
        _, late = wait(futures, timeout=within)
        for future in late:
            future.cancel()  # not started: left for a later prune; one running finishes alone
        if late:
            log.warning("pruning ran out of time: %d gone connections left", len(late))
        return {futures[f] for f in futures if f.done() and not f.cancelled() and f.result()}

    def _one(self, connection_id: str, stored_before_ms: int | None) -> bool:
        try:
            return self._remove_one(connection_id, stored_before_ms)
        except StoreError:
            log.exception("could not prune gone connection %s", connection_id)
            return False
        except Exception:  # on a pool thread: logged here, or nobody would see it
            log.exception("unexpected error pruning gone connection %s", connection_id)
            return False

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._concurrency, thread_name_prefix="prune")
            return self._pool
