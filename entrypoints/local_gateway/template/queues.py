"""The template's SQS queues, made in the embedded moto (which keeps SQS's receive counts and
redrive to a dead-letter queue), and their event source mappings: a poller per mapping receives
batches and invokes the function with Lambda's SQS event, as Lambda's pollers do.

Long: queues, their mappings and the poller are one path of a message, read in one place.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from entrypoints.local_gateway.template.intrinsics import Resolver, Unresolvable
from entrypoints.local_gateway.template.reading import TemplateError

log = logging.getLogger("local_gateway")
_ATTRIBUTES = (
    "DelaySeconds", "MaximumMessageSize", "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds", "VisibilityTimeout", "FifoQueue",
    "ContentBasedDeduplication",
)  # fmt: skip
# Short polls, a pause between empty ones: the embedded moto answers one request at a time,
# so a long poll (WaitTimeSeconds) would hold every function's DynamoDB calls behind it.
POLL_PAUSE_SECONDS = 0.1


@dataclass(frozen=True)
class Queue:
    logical_id: str
    name: str
    url: str
    arn: str
    attributes: dict[str, str]


@dataclass(frozen=True)
class Consumer:
    """An event source mapping: `function` (a logical id) gets batches of `queue`."""

    logical_id: str
    queue: Queue
    function: str
    batch_size: int
    partial: bool  # FunctionResponseTypes: ReportBatchItemFailures


def read_queues(resolver: Resolver, resources: Mapping[str, Any]) -> list[Queue]:
    queues = []
    for name, resource in resources.items():
        if resource.get("Type") != "AWS::SQS::Queue":
            continue
        properties = resource.get("Properties") or {}
        try:
            attributes = {key: _text(resolver.resolve(properties[key])) for key in _ATTRIBUTES
                          if key in properties}  # fmt: skip
            if "RedrivePolicy" in properties:
                attributes["RedrivePolicy"] = json.dumps(
                    resolver.resolve(properties["RedrivePolicy"])
                )
        except Unresolvable as error:
            raise TemplateError(f"{name}: {error}") from error
        queues.append(
            Queue(
                name,
                resolver.attribute(name, "QueueName"),
                resolver.ref(name),
                resolver.attribute(name, "Arn"),
                attributes,
            )
        )
    return queues


def read_consumers(
    resolver: Resolver,
    resources: Mapping[str, Any],
    queues: list[Queue],
    functions: Callable[[str], str | None],
) -> tuple[list[Consumer], list[str]]:
    """The mappings from the template's queues to its functions; a line for any other."""
    by_arn = {queue.arn: queue for queue in queues}
    consumers, others = [], []
    for name, resource in resources.items():
        if resource.get("Type") != "AWS::Lambda::EventSourceMapping":
            continue
        properties = resource.get("Properties") or {}
        try:
            source = str(resolver.resolve(properties.get("EventSourceArn", "")))
            target = str(resolver.resolve(properties.get("FunctionName", "")))
        except Unresolvable as error:
            raise TemplateError(f"{name}: {error}") from error
        function = functions(target)
        if source not in by_arn or function is None:
            others.append(
                f"not reproduced: {name} (AWS::Lambda::EventSourceMapping): only "
                "mappings from the template's SQS queues to its functions are served"
            )
            continue
        if properties.get("Enabled") in (False, "false"):
            others.append(f"not reproduced: {name} (AWS::Lambda::EventSourceMapping): disabled")
            continue
        response_types = properties.get("FunctionResponseTypes") or []
        consumers.append(
            Consumer(name, by_arn[source], function, int(properties.get("BatchSize", 10)),
                     "ReportBatchItemFailures" in response_types)
        )  # fmt: skip
    return consumers, others


def create_queues(client: Any, queues: list[Queue]) -> None:
    """Dead-letter queues first: a redrive policy names an existing queue."""
    ordered = sorted(queues, key=lambda queue: "RedrivePolicy" in queue.attributes)
    for queue in ordered:
        try:
            client.create_queue(QueueName=queue.name, Attributes=queue.attributes)
        except Exception as error:
            raise TemplateError(f"queue {queue.logical_id}: SQS refused it: {error}") from error


class Poller:
    """Lambda's SQS poller for one mapping: receive, invoke, delete what succeeded. A batch
    whose invocation fails stays on the queue, to come back after its visibility timeout."""

    def __init__(
        self, consumer: Consumer, client: Any, invoke: Callable[[dict[str, Any]], Any],
        region: str,
    ) -> None:  # fmt: skip
        self.consumer = consumer
        self._client = client
        self._invoke = invoke
        self._region = region
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=consumer.logical_id, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._once()
            except Exception:
                log.exception("SQS poller %s failed; polling again", self.consumer.logical_id)
                self._stop.wait(1)

    def _once(self) -> None:
        queue = self.consumer.queue
        received = self._client.receive_message(
            QueueUrl=queue.url,
            MaxNumberOfMessages=min(self.consumer.batch_size, 10),
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            self._stop.wait(POLL_PAUSE_SECONDS)
            return
        try:
            result = self._invoke({"Records": [self._record(m) for m in received]})
        except Exception as error:
            log.warning("%s: a batch of %d failed (%s); it comes back after its visibility "
                        "timeout", self.consumer.function, len(received), error)  # fmt: skip
            return
        failed = self._failed(result)
        done = [m for m in received if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            entries = [{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
                       for n, m in enumerate(done[start : start + 10])]  # fmt: skip
            self._client.delete_message_batch(QueueUrl=queue.url, Entries=entries)

    def _failed(self, result: Any) -> set[str]:
        if not self.consumer.partial or not isinstance(result, dict):
            return set()
        failures = result.get("batchItemFailures") or []
        return {str(f.get("itemIdentifier")) for f in failures if isinstance(f, dict)}

    def _record(self, message: Mapping[str, Any]) -> dict[str, Any]:
        """One record of Lambda's SQS event."""
        attributes = {
            name: {
                "stringValue": value.get("StringValue"), "binaryValue": value.get("BinaryValue"),
                "stringListValues": [], "binaryListValues": [], "dataType": value["DataType"],
            }
            for name, value in (message.get("MessageAttributes") or {}).items()
        }  # fmt: skip
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": attributes,
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.consumer.queue.arn,
            "awsRegion": self._region,
        }


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
