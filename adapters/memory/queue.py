"""Shard tasks on a local thread pool, run the way SQS and the worker Lambda run them.

For `switchboard serve`: the same worker handler gets the same SQS-shaped events. A shard
whose handler raises, or reports it in batchItemFailures, is delivered again (the queue's
receive count goes up), and after `max_receive` receives it moves to a dead-letter list
(logged), as SQS's redrive policy moves it to the dead-letter queue. `workers` threads stand
for the event source mapping's MaximumConcurrency.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

log = logging.getLogger(__name__)
WorkerHandler = Callable[[dict[str, Any], Any], Mapping[str, Any] | None]
QUEUE_ARN = "arn:aws:sqs:{region}:123456789012:switchboard-fanout-local"


class LocalQueue:
    """A bounded pool of workers fed one message per invocation (the template's BatchSize 1)."""

    def __init__(
        self,
        handler: WorkerHandler,
        workers: int = 4,
        max_receive: int = 3,
        redelivery_delay: float = 0.5,
        timeout: float = 60.0,
        region: str = "us-east-1",
    ) -> None:
        if workers < 1 or max_receive < 1:
            raise ValueError(f"workers ({workers}) and max_receive ({max_receive}) must be >= 1")
        self._handler = handler
        self._max_receive = max_receive
        self._delay = redelivery_delay
        self._timeout = timeout
        self._arn = QUEUE_ARN.format(region=region)
        self._region = region
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="fanout-worker")
        self._idle = threading.Condition()
        self._in_flight = 0
        self.sent = 0  # messages sent since start, for logs and tests
        # Bodies of dead-lettered messages, newest last; bounded, as the process runs on.
        self.dead_letters: deque[str] = deque(maxlen=1000)

    def send(self, body: str) -> str:
        message_id = str(uuid.uuid4())
        with self._idle:
            self._in_flight += 1
            self.sent += 1
        self._pool.submit(self._deliver, message_id, body)
        return message_id

    def drain(self, timeout: float) -> bool:
        """Wait until every message sent is done with (delivered or dead-lettered)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def _deliver(self, message_id: str, body: str) -> None:
        try:
            for receive in range(1, self._max_receive + 1):
                if self._succeeds(message_id, body, receive):
                    return
                if receive < self._max_receive:
                    time.sleep(self._delay)  # SQS waits out the visibility timeout
            log.error(
                "shard message %s failed %d receives: moved to the dead-letter list",
                message_id,
                self._max_receive,
            )
            self.dead_letters.append(body)
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def _succeeds(self, message_id: str, body: str, receive: int) -> bool:
        event = {"Records": [self._record(message_id, body, receive)]}
        try:
            response = self._handler(event, LocalContext(self._timeout, self._region))
        except Exception:
            log.exception("fan-out worker raised on message %s (receive %d)", message_id, receive)
            return False
        failures = (response or {}).get("batchItemFailures", [])
        return all(f.get("itemIdentifier") != message_id for f in failures)

    def _record(self, message_id: str, body: str, receive: int) -> dict[str, Any]:
        now_ms = str(int(time.time() * 1000))
        return {
            "messageId": message_id,
            "receiptHandle": f"{message_id}#{receive}",
            "body": body,
            "attributes": {
                "ApproximateReceiveCount": str(receive),
                "SentTimestamp": now_ms,
                "SenderId": "AIDAEXAMPLELOCAL",
                "ApproximateFirstReceiveTimestamp": now_ms,
            },
            "messageAttributes": {},
            "md5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
            "eventSource": "aws:sqs",
            "eventSourceARN": self._arn,
            "awsRegion": self._region,
        }


class LocalContext:
    """The worker Lambda's context, as far as the handler and Powertools read it."""

    function_name = "switchboard-fanout-local"
    function_version = "$LATEST"
    memory_limit_in_mb = 512

    def __init__(self, timeout: float, region: str) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self.invoked_function_arn = (
            f"arn:aws:lambda:{region}:123456789012:function:{self.function_name}"
        )
        self._deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))
