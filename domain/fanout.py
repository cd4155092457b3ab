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
        """`establish_grace`: seconds after its record was stored during which a 410 does not
        prune a connection. API Gateway answers 410 until it has finished a handshake, and it
        finishes only after $connect has stored the record: a broadcast in between must not
        delete it."""
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
        pruned = self._prune(gone, deadline) if gone else set()
        # A gone connection still in the store counts as a failure, so the counts add up.
        failed.extend(connection_id for connection_id in gone if connection_id not in pruned)
        pruned_count = len(pruned)
        return FanoutResult(
            len(batch), delivered, pruned_count, len(failed), retries, tuple(failed)
        )

    def disconnect(self, connection_id: str) -> PostOutcome:
        """Close one connection through the publisher (DELETE @connections/{id})."""
        return self._publisher.disconnect(connection_id)

    def _prune(self, gone: list[str], deadline: float) -> set[str]:
        """Remove the gone connections side by side, in the time the deadline leaves; a record
        stored within the establish grace is kept (its handshake may not be finished)."""
        within = max(0.0, deadline - self._clock.elapsed())
        cutoff_ms = None
        if self._establish_grace > 0:
            cutoff_ms = int((self._clock.now() - self._establish_grace) * 1000)
        try:
            return self._store.prune(gone, cutoff_ms, within)
        except StoreError:
            log.exception("could not prune %d gone connections", len(gone))
            return set()
