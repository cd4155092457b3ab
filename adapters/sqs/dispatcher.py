"""Shard tasks onto an SQS queue that a worker Lambda consumes.

Why SQS rather than asynchronous Lambda invocations: the queue retries a failed shard after
its visibility timeout and moves it to a dead-letter queue after maxReceiveCount receives,
the worker reports failures per message (ReportBatchItemFailures), and the event source
mapping's MaximumConcurrency caps the workers posting at once, which is what keeps a stage
under API Gateway's account-wide request quota (10,000/s by default, shared with every API).
Asynchronous invocations offer retries and a DLQ too, but no cap short of reserved
concurrency, which also throttles the invocations themselves.

SendMessageBatch takes 10 messages and 256 KB in all per call. botocore retries failed calls;
entries a successful call reports as Failed are ours to retry, unless SQS says the fault is
the sender's (retrying cannot help then).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from adapters.sqs.messages import MAX_BODY_BYTES, encode
from domain.errors import DispatchError
from domain.fanout import RetryPolicy
from domain.ports import ShardDispatcher
from domain.shards import ShardTask

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef as Entry

log = logging.getLogger(__name__)
BATCH_ENTRIES = 10


class SqsDispatcher(ShardDispatcher):
    """Sends tasks whose posts go to `endpoint`, ten (or 256 KB) per SendMessageBatch call."""

    def __init__(
        self,
        client: SQSClient,
        queue_url: str,
        endpoint: str,
        max_attempts: int = 3,
        base_delay: float = 0.1,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {max_attempts}")
        self._client = client
        self._queue_url = queue_url
        self._endpoint = endpoint
        self._max_attempts = max_attempts
        # The domain's full-jitter backoff; uncapped within these few attempts, as before.
        self._backoff = RetryPolicy(
            max_attempts=max_attempts,
            base_delay=base_delay,
            max_delay=base_delay * 2**max_attempts,
        )
        self._sleep = sleep
        self._rng = rng or random.Random()

    def dispatch(self, tasks: Iterable[ShardTask]) -> int:
        sent, problems = 0, []
        for batch in self._batches(tasks):
            problems += self._send(batch)
            sent += len(batch)
        sent -= len(problems)
        if problems:
            raise DispatchError(sent, len(problems), "; ".join(problems[:5]))
        return sent

    def _batches(self, tasks: Iterable[ShardTask]) -> Iterator[list[Entry]]:
        batch: list[Entry] = []
        size = 0
        for task in tasks:
            body = encode(task, self._endpoint)
            if batch and (len(batch) == BATCH_ENTRIES or size + len(body) > MAX_BODY_BYTES):
                yield batch
                batch, size = [], 0
            batch.append({"Id": str(len(batch)), "MessageBody": body})
            size += len(body)
        if batch:
            yield batch

    def _send(self, entries: list[Entry]) -> list[str]:
        """Send one batch; what could not be sent, one line each."""
        pending, problems = entries, []
        for attempt in range(self._max_attempts):
            if attempt:
                self._sleep(self._backoff.delay(attempt - 1, self._rng))
            try:
                response = self._client.send_message_batch(
                    QueueUrl=self._queue_url, Entries=pending
                )
            except (ClientError, BotoCoreError) as error:  # botocore retried it already
                log.warning("SendMessageBatch of %d shard(s) failed: %s", len(pending), error)
                retry_reason = str(error)
                continue
            by_id = {entry["Id"]: entry for entry in pending}
            retry = []
            for failure in response.get("Failed", []):
                reason = f"{failure['Code']}: {failure.get('Message', '')}"
                if failure["SenderFault"]:
                    problems.append(f"shard refused by SQS ({reason})")
                else:
                    retry.append(by_id[failure["Id"]])
                    retry_reason = reason
            if not retry:
                return problems
            pending = retry
        log.error("%d shard(s) not queued after %d attempts", len(pending), self._max_attempts)
        return problems + [f"not queued after retries ({retry_reason})"] * len(pending)
