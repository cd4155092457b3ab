"""The fan-out worker Lambda: SQS messages of shard tasks in, partial batch failures out.

Each record is one shard (domain/shard_worker.py).

- A shard that runs short of time is not a failure: the worker stops between batches while a
  batch's retries still fit, queues a continuation (the same task, a new message, which
  resumes after the checkpoint) and acknowledges the current one. The continuation uses none
  of the shard's receives and waits for no visibility timeout.
- A record fails, and SQS delivers it again after its visibility timeout, when the shard
  could not go on: the store or a checkpoint failed, or the continuation could not be queued.
  After the queue's maxReceiveCount, SQS moves it to the dead-letter queue.
- A body that is not a task, or a task whose posts go anywhere but this stack's own
  @connections endpoint (APIGW_ENDPOINT), is refused: logged, counted (ShardsRefused) and
  acknowledged, since no retry could make it right.

Posts that still fail after their retries are counted and logged, as in-process ones are; they
do not fail the shard, which would re-post its delivered connections too.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from adapters.sqs.messages import decode
from domain.shard_worker import ShardWorker
from domain.shards import ShardReport, ShardTask
from entrypoints.composition import container as composition
from entrypoints.observability import NAMESPACE, add_metric, invocation

# Its own service name: Powertools loggers of one name share state. Under `serve` this handler
# runs on several threads at once: the invocation's context rides on the logger's thread-safe
# keys (entrypoints/observability.py), each record's in its lines' `extra`.
logger = Logger(service="switchboard-fanout")
# Seconds kept in hand past the retry deadline, for a checkpoint and the report.
STOP_MARGIN_SECONDS = 5.0


class ShardIncomplete(RuntimeError):
    """The shard paused and its continuation could not be queued: SQS delivers it again, and
    that delivery resumes after the checkpoint."""


@invocation(logger, NAMESPACE)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # A processor per invocation: it keeps per-batch state, and `serve` invokes concurrently.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    run = partial(_run_record, context=context)
    return dict(process_partial_response(event, run, processor, context))


def _run_record(record: SQSRecord, context: Any) -> None:
    receives = record.attributes.approximate_receive_count
    where: dict[str, Any] = {"message_id": record.message_id, "receive_count": receives}
    try:
        task, endpoint = decode(record.body)
    except ValueError as error:
        return _refuse("not a shard task", where | {"error": str(error)})
    where |= {"broadcast_id": task.broadcast_id, "shard": task.index}
    c = composition.shared()
    own = c.config.apigw_endpoint()
    if own is None or endpoint.rstrip("/") != own:
        return _refuse("shard names another @connections endpoint", where | {"endpoint": endpoint})
    worker: ShardWorker = c.shard_worker(fanout__publisher=c.publishers().for_endpoint(endpoint))
    margin_ms = (c.config.deadline() + STOP_MARGIN_SECONDS) * 1000
    started = time.perf_counter()
    try:
        report = worker.run(task, lambda: context.get_remaining_time_in_millis() < margin_ms)
    except Exception:
        logger.exception("shard failed", extra=where)
        raise
    _report(report, round((time.perf_counter() - started) * 1000, 2), where)
    if not report.complete:
        _continue(c, task, endpoint, where)


def _continue(
    c: composition.Container, task: ShardTask, endpoint: str, where: dict[str, Any]
) -> None:
    """Queue the rest of the shard as a new message: it resumes after the checkpoint."""
    try:
        c.dispatcher(endpoint=endpoint).dispatch([task])
    except Exception as error:
        logger.exception("could not queue the shard's continuation", extra=where)
        raise ShardIncomplete(f"shard {task.key} paused, continuation not queued") from error
    add_metric("ShardContinuations", 1)
    logger.info("shard continues in a new message", extra=where)


def _refuse(reason: str, where: dict[str, Any]) -> None:
    logger.error(f"shard refused: {reason}", extra=where)
    add_metric("ShardsRefused", 1)


def _report(report: ShardReport, duration_ms: float, where: dict[str, Any]) -> None:
    this = report.attempt_result
    logger.info(
        "shard complete" if report.complete else "shard paused",
        extra={
            **where,
            "part": repr(report.task.part),
            "resumed_after": report.resumed_after,
            "delivered": this.delivered,
            "pruned": this.pruned,
            "failed": this.failed,
            "retries": this.retries,
            "total_delivered": report.result.delivered,
            "total_pruned": report.result.pruned,
            "total_failed": report.result.failed,
            "duration_ms": duration_ms,
            "failed_ids": list(this.failed_ids[:20]),
        },
    )
    # Flushed with the invocation's EMF record: a value per shard the batch held.
    add_metric("ShardPostsDelivered", this.delivered)
    add_metric("ShardPostsPruned", this.pruned)
    add_metric("ShardPostsFailed", this.failed)
    add_metric("ShardDuration", duration_ms, MetricUnit.Milliseconds)
    add_metric("ShardsIncomplete", int(not report.complete))
