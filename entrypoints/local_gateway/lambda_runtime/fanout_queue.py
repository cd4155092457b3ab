"""The fan-out queue `serve` runs: SQS and the worker Lambda's event source mapping, on threads.

A sharded broadcast under `serve` (DISPATCH=local) goes to this queue, whose consumer is the
fan-out worker Lambda's own handler, named as the template names it. The app only sends to the
queue (adapters/memory/dispatcher.py), as on AWS it only sends to SQS.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from adapters.memory.dispatcher import serve_queue
from adapters.memory.queue import LocalQueue
from entrypoints.composition.settings import Settings
from entrypoints.local_gateway.lambda_runtime.console import Shown
from entrypoints.local_gateway.lambda_runtime.handlers import OnFirstCall

# The template's FanoutWorkerFunction Handler (tests/integration/test_template.py checks it).
WORKER_HANDLER = "entrypoints.fanout_worker.handler"


@contextlib.contextmanager
def serving_fanout_queue(region: str, log_format: str | None = None) -> Iterator[LocalQueue]:
    """While inside, this process's local dispatchers send shards to a queue of worker threads
    (SHARD_WORKERS of them; SHARD_MAX_RECEIVE receives before its dead-letter list)."""
    settings = Settings.from_environ()
    queue = LocalQueue(
        # Imported when the first shard arrives: most `serve` runs never shard, and another
        # app's handler (--handler) never does.
        Shown(
            OnFirstCall(WORKER_HANDLER, option="the fan-out worker"), "worker", "sqs", log_format
        ),
        settings.shard_workers,
        settings.shard_max_receive,
        region=region,
    )
    serve_queue(queue)
    try:
        yield queue
    finally:
        serve_queue(None)
        queue.close()
