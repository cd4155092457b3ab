"""BatchWriteItem in chunks of 25, retrying UnprocessedItems with bounded, jittered backoff."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from domain.fanout import RetryPolicy

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# DynamoDB's limit on the requests of one BatchWriteItem call.
BATCH_SIZE = 25

# One write request: {"PutRequest": {"Item": ...}} or {"DeleteRequest": {"Key": ...}}.
Request = Mapping[str, Any]


@dataclass(frozen=True)
class BatchRetry(RetryPolicy):
    """Bounds on retrying the writes a BatchWriteItem call left unprocessed.

    botocore retries throttled and failed *calls*; a call that succeeds with UnprocessedItems
    is ours to retry (AWS advises exponential backoff). The full-jitter delay is the
    domain's RetryPolicy's; only the bounds differ.
    """

    max_attempts: int = 5  # calls per chunk, the first one included
    base_delay: float = 0.05  # seconds, before jitter
    max_delay: float = 1.0  # cap on one wait


@dataclass(frozen=True)
class BatchOutcome:
    """What a batch write left undone: the requests never applied (empty when all were)."""

    total: int
    undone: tuple[Request, ...] = ()


class BatchWriter:
    """Writes requests to one table; stops at the first chunk still unprocessed after the bound."""

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        retry: BatchRetry,
        sleep: Callable[[float], None],
        rng: random.Random,
    ) -> None:
        self._client = client
        self._table = table_name
        self._retry = retry
        self._sleep = sleep
        self._rng = rng

    def write(self, requests: Sequence[Request]) -> BatchOutcome:
        """Apply every request, in order of chunks; ClientError propagates (botocore retried it).

        Stopping at a failing chunk keeps the order meaningful: a caller can put the writes
        that must happen last in the last chunk.
        """
        for start in range(0, len(requests), BATCH_SIZE):
            left = self._write_chunk(requests[start : start + BATCH_SIZE])
            if left:
                return BatchOutcome(len(requests), (*left, *requests[start + BATCH_SIZE :]))
        return BatchOutcome(len(requests))

    def _write_chunk(self, pending: Sequence[Request]) -> Sequence[Request]:
        for attempt in range(self._retry.max_attempts):
            if attempt:
                self._sleep(self._retry.delay(attempt - 1, self._rng))
            request_items: dict[str, Any] = {self._table: pending}
            response = self._client.batch_write_item(RequestItems=request_items)
            pending = response.get("UnprocessedItems", {}).get(self._table, [])
            if not pending:
                return []
        return pending
