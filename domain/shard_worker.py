"""The fan-out worker's use case: post one shard in batches, checkpointing after each batch.

A batch is settled when Fanout returns for it (delivered, pruned, or failed after the same
bounded retries an unsharded broadcast makes); the checkpoint then records its last id. A
redelivered task resumes after that id, so the only connections posted twice are those of
the batch in flight when an attempt died: posts whose outcome nobody recorded. The batch
size bounds that. A task whose checkpoint says done is not posted again (a queue may deliver
a message twice).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from itertools import islice

from domain.fanout import Fanout
from domain.model import FanoutResult
from domain.ports import AudienceReads, Clock, ShardProgress
from domain.shards import Checkpoint, Cursor, ShardReport, ShardTask


def _never() -> bool:
    return False


class ShardWorker:
    """Posts a shard's payload to the shard's live connections, resumably."""

    def __init__(
        self,
        reads: AudienceReads,
        fanout: Fanout,
        progress: ShardProgress,
        clock: Clock,
        batch_size: int = 250,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        self._reads = reads
        self._fanout = fanout
        self._progress = progress
        self._clock = clock
        self._batch_size = batch_size

    def run(self, task: ShardTask, should_stop: Callable[[], bool] = _never) -> ShardReport:
        """Post to the shard until it is done, or `should_stop()` says so between batches.

        At least one batch is posted per attempt, so repeated short attempts still progress.
        Raises StoreError when reading the shard or saving progress fails: the task should
        then be retried, and will resume from the last checkpoint saved.
        """
        checkpoint = self._progress.load(task.key) or Checkpoint()
        resumed_after = checkpoint.cursor
        if checkpoint.done:
            return ShardReport(task, checkpoint.settled, True, resumed_after)
        this_attempt = FanoutResult()
        ids = self._ids(task, checkpoint.cursor)
        batches = 0
        while True:
            if batches and should_stop():
                return ShardReport(task, checkpoint.settled, False, resumed_after, this_attempt)
            batch = list(islice(ids, self._batch_size))
            if not batch:
                break
            result = self._fanout.send(task.payload, batch)
            this_attempt += result
            settled = checkpoint.settled + replace(result, failed_ids=())
            checkpoint = Checkpoint(batch[-1], settled)
            self._progress.save(task.key, checkpoint)
            batches += 1
        self._progress.save(task.key, replace(checkpoint, done=True))
        return ShardReport(task, checkpoint.settled, True, resumed_after, this_attempt)

    def _ids(self, task: ShardTask, cursor: Cursor | None) -> Iterator[str]:
        return self._reads.part_ids(task.part, self._clock.now(), cursor)
