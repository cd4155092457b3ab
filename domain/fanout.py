"""Fan-out: who gets a payload, once each; retry the throttled, prune the gone."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from domain.errors import StoreError
from domain.model import FanoutResult, PostOutcome
from domain.ports import Clock, ConnectionStore, Publisher

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds on retrying throttled (429) and transient (5xx, network) posts."""

    max_attempts: int = 5  # posts per connection, the first one included
    base_delay: float = 0.05  # seconds before the first retry (before jitter)
    max_delay: float = 2.0  # cap on one wait
    deadline: float = 10.0  # seconds one fan-out may spend waiting to retry, in all

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {self.max_attempts}")
        for name in ("base_delay", "max_delay", "deadline"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, not {getattr(self, name)}")

    def delay(self, retry: int, rng: random.Random) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**retry)]."""
        return rng.uniform(0.0, min(self.max_delay, self.base_delay * 2**retry))


class Fanout:
    """Posts one payload to a stream of recipients, in batches, each distinct id once."""

    def __init__(
        self,
        store: ConnectionStore,
        publisher: Publisher,
        clock: Clock,
        policy: RetryPolicy | None = None,
        rng: random.Random | None = None,
        batch_size: int = 1000,
        establish_grace: float = 0.0,
    ) -> None:
        """`establish_grace`: seconds after its connect during which a 410 does not prune a
        connection. API Gateway answers 410 until it has finished a handshake, and it finishes
        only after $connect has stored the record: a broadcast in between must not delete it."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        self._store = store
        self._publisher = publisher
        self._clock = clock
        self._policy = policy or RetryPolicy()
        self._rng = rng or random.Random()
        self._batch_size = batch_size
        self._establish_grace = establish_grace

    def send(self, payload: bytes, recipients: Iterable[str]) -> FanoutResult:
        deadline = self._clock.elapsed() + self._policy.deadline
        result = FanoutResult()
        for batch in self._batches(recipients):
            result += self._send_batch(payload, batch, deadline)
        return result

    def _batches(self, recipients: Iterable[str]) -> Iterator[list[str]]:
        seen: set[str] = set()
        batch: list[str] = []
        for connection_id in recipients:
            if connection_id in seen:
                continue
            seen.add(connection_id)
            batch.append(connection_id)
            if len(batch) == self._batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    def _send_batch(self, payload: bytes, batch: list[str], deadline: float) -> FanoutResult:
        pending, delivered, retries = batch, 0, 0
        gone: list[str] = []
        failed: list[str] = []
        for attempt in range(1, self._policy.max_attempts + 1):
            outcomes = self._publisher.post(payload, pending)
            retry: list[str] = []
            for connection_id in pending:
                # An id the publisher did not report on is treated as a transient failure.
                outcome = outcomes.get(connection_id, PostOutcome.FAILED)
                if outcome is PostOutcome.DELIVERED:
                    delivered += 1
                elif outcome is PostOutcome.GONE:
                    gone.append(connection_id)
                elif outcome.retryable:
                    retry.append(connection_id)
                else:
                    failed.append(connection_id)
            if not retry:
                break
            wait = self._policy.delay(attempt - 1, self._rng)
            if attempt == self._policy.max_attempts or self._clock.elapsed() + wait > deadline:
                failed.extend(retry)
                break
            self._clock.sleep(wait)
            retries += len(retry)
            pending = retry
        pruned = 0
        for connection_id in gone:
            if self._prune(connection_id):
                pruned += 1
            else:  # still in the store: count it as a failure, so the counts add up
                failed.append(connection_id)
        return FanoutResult(len(batch), delivered, pruned, len(failed), retries, tuple(failed))

    def _prune(self, connection_id: str) -> bool:
        try:
            if self._establishing(connection_id):
                log.info(
                    "not pruning %s: connected moments ago, maybe not established", connection_id
                )
                return False
            self._store.remove(connection_id)
        except StoreError:
            log.exception("could not prune gone connection %s", connection_id)
            return False
        return True

    def _establishing(self, connection_id: str) -> bool:
        if self._establish_grace <= 0:
            return False
        record = self._store.get(connection_id)
        if record is None:
            return False
        return record.connected_at_ms / 1000 > self._clock.now() - self._establish_grace
