"""A shard that runs short of time goes on in a new message: through SQS (moto), a shard of
10,000 recipients pauses again and again, and every recipient hears it exactly once."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from dependency_injector import providers
from moto import mock_aws

from adapters.sqs.dispatcher import SqsDispatcher
from domain.model import Connection
from domain.shards import EveryonePart, ShardTask
from entrypoints import fanout_worker
from entrypoints.composition import container as composition
from entrypoints.composition.container import build
from entrypoints.composition.publishers import Publishers
from tests.doubles import FakePublisher
from tests.reliability.report import Row, record

ENDPOINT = "https://abc123.execute-api.us-east-1.amazonaws.com/dev"
REGION = "us-east-1"
RECIPIENTS = 10_000
BATCHES_PER_INVOCATION = 3  # then the invocation "runs short of time"


class ShortContext:
    """A Lambda context whose time runs out after a few batches: the worker asks between
    batches, and from the fourth question on, less time is left than a batch may need."""

    function_name = "switchboard-fanout"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:switchboard-fanout"

    def __init__(self) -> None:
        self.aws_request_id = f"req-{time.monotonic_ns()}"
        self._asked = itertools.count()

    def get_remaining_time_in_millis(self) -> int:
        return 600_000 if next(self._asked) < BATCHES_PER_INVOCATION - 1 else 1_000


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")  # never real credentials, even by mistake
    with mock_aws():
        yield boto3.client("sqs", region_name=REGION)


def test_a_shard_that_pauses_goes_on_in_new_messages_and_posts_each_recipient_once(
    sqs: Any,
) -> None:
    dlq = sqs.create_queue(QueueName="fanout-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]
    redrive = {"deadLetterTargetArn": dlq_arn["QueueArn"], "maxReceiveCount": 3}
    url = sqs.create_queue(QueueName="fanout", Attributes={"RedrivePolicy": json.dumps(redrive)})[
        "QueueUrl"
    ]
    container = build(
        {"STORE": "memory", "AWS_REGION": REGION, "APIGW_ENDPOINT": ENDPOINT,
         "FANOUT_QUEUE_URL": url, "FANOUT_BATCH_SIZE": "1000"}
    )  # fmt: skip
    fake = FakePublisher()
    container.publishers.override(providers.Singleton(Publishers, factory=lambda endpoint: fake))
    container.sqs_client.override(providers.Object(sqs))
    store = container.store()
    now_ms = int(time.time() * 1000)
    for n in range(RECIPIENTS):
        store.add(Connection.open(f"c{n:05}=", now_ms))
    composition.reset_shared(container)
    try:
        SqsDispatcher(sqs, url, ENDPOINT).dispatch([ShardTask("b1", 0, EveryonePart(0, 1), b"x")])
        invocations, receives, failures = _drain(sqs, url)
    finally:
        composition.reset_shared(None)
    pauses = invocations - 1
    heard = {cid: len(payloads) for cid, payloads in fake.sent.items()}
    assert pauses >= 3
    assert heard == {f"c{n:05}=": 1 for n in range(RECIPIENTS)}  # none lost, none twice
    assert failures == 0 and receives == {"1"}  # no redelivery: each message received once
    assert sqs.receive_message(QueueUrl=dlq).get("Messages") is None
    record(
        Row(
            test="shard paused for time",
            load=f"1 shard of {RECIPIENTS:,} recipients, batches of 1,000, SQS (moto)",
            faults=f"{pauses} pauses (time running short every {BATCHES_PER_INVOCATION} batches)",
            inputs="-",
            lost=f"0 of {RECIPIENTS:,} posts lost, 0 repeated; {pauses} continuations, "
            "every message received once, 0 in the dead-letter queue",
        )
    )


def _drain(sqs: Any, url: str) -> tuple[int, set[str], int]:
    """The event source mapping, one message per invocation: (invocations, receive counts
    seen, batch item failures)."""
    invocations, failures, receives = 0, 0, set()
    while messages := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=1, AttributeNames=["All"]
    ).get("Messages"):
        [message] = messages
        invocations += 1
        assert invocations < 50, "the shard never finished"
        receives.add(message["Attributes"]["ApproximateReceiveCount"])
        event = {"Records": [_record(message)]}
        response = fanout_worker.handler(event, ShortContext())
        if response["batchItemFailures"]:
            failures += 1
        else:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return invocations, receives, failures


def _record(message: dict[str, Any]) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message["Attributes"],
        "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:fanout",
        "awsRegion": REGION,
    }
