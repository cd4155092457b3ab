"""Shards to the local fan-out queue that this process serves (`switchboard serve` runs one).

The queue and the worker it feeds belong to whoever stands in for AWS in this process: `serve`
starts a LocalQueue whose consumer is the worker Lambda's handler and serves it here, as SQS and
an event source mapping do on AWS. The app's dispatcher only sends to it, so the app never
imports its own worker.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from adapters.memory.queue import LocalQueue
from adapters.sqs.messages import encode
from domain.errors import DispatchError
from domain.ports import ShardDispatcher
from domain.shards import ShardTask

_lock = threading.Lock()
_served: LocalQueue | None = None


def serve_queue(queue: LocalQueue | None) -> None:
    """Make `queue` the one this process's dispatchers send to (None: stop serving one)."""
    global _served
    with _lock:
        _served = queue


def served_queue() -> LocalQueue | None:
    with _lock:
        return _served


class LocalDispatcher(ShardDispatcher):
    """Sends tasks whose posts go to `endpoint` to the queue served when they are dispatched."""

    def __init__(self, endpoint: str) -> None:
        self._endpoint = endpoint

    def dispatch(self, tasks: Iterable[ShardTask]) -> int:
        queue = served_queue()
        if queue is None:
            tasks = list(tasks)
            reason = "DISPATCH=local, but no local fan-out queue runs in this process (serve's)"
            raise DispatchError(0, len(tasks), reason)
        count = 0
        for task in tasks:
            queue.send(encode(task, self._endpoint))
            count += 1
        return count
