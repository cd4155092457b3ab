"""Shards over SQS (moto): the dispatcher's batches and retries, the worker's partial batch
responses, and a failing shard's way to the dead-letter queue after maxReceiveCount.

Long: the dispatcher and the worker are tested against the same moto queue and rig.
"""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from dependency_injector import providers
from moto import mock_aws

from adapters.memory.progress import MemoryProgress
from adapters.sqs.dispatcher import SqsDispatcher
from adapters.sqs.messages import decode, encode
from domain.errors import DispatchError, StoreError
from domain.model import Connection
from domain.shards import Checkpoint, EveryonePart, ShardTask
from entrypoints import fanout_worker
from entrypoints.composition import container as composition
from entrypoints.composition.container import Container, build
from entrypoints.composition.publishers import Publishers
from tests.doubles import FakePublisher
from tests.support import LambdaContext

ENDPOINT = "https://abc123.execute-api.us-east-1.amazonaws.com/dev"
REGION = "us-east-1"


def task(
    index: int, total: int = 30, payload: bytes = b"hello", broadcast: str = "b1"
) -> ShardTask:
    return ShardTask(broadcast, index, EveryonePart(index % total, total), payload)


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")  # never real credentials, even by mistake
    with mock_aws():
        yield boto3.client("sqs", region_name=REGION)


def receive_all(sqs: Any, url: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        messages += batch
    return messages


def test_tasks_go_ten_to_a_call_and_read_back_as_sent(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="fanout")["QueueUrl"]
    calls: list[int] = []
    sqs.meta.events.register(
        "provide-client-params.sqs.SendMessageBatch",
        lambda params, **_: calls.append(len(params["Entries"])),
    )
    tasks = [task(i) for i in range(23)]
    assert SqsDispatcher(sqs, url, ENDPOINT).dispatch(iter(tasks)) == 23
    assert calls == [10, 10, 3]
    received = sorted((decode(m["Body"]) for m in receive_all(sqs, url)), key=lambda d: d[0].index)
    assert received == [(t, ENDPOINT) for t in tasks]


def test_large_payloads_are_split_to_keep_each_call_under_256_kb(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="fanout")["QueueUrl"]
    calls: list[int] = []
    sqs.meta.events.register(
        "provide-client-params.sqs.SendMessageBatch",
        lambda params, **_: calls.append(len(params["Entries"])),
    )
    big = bytes(range(256)) * 400  # 100 KB of every byte value: 134 KB of base64
    assert SqsDispatcher(sqs, url, ENDPOINT).dispatch(task(i, payload=big) for i in range(3)) == 3
    assert calls == [1, 1, 1]
    assert {decode(m["Body"])[0].payload for m in receive_all(sqs, url)} == {big}


def stubbed(failures: list[list[dict[str, Any]]]) -> tuple[SqsDispatcher, Stubber]:
    client = boto3.client("sqs", region_name=REGION)
    stubber = Stubber(client)
    for failed in failures:
        ids = {f["Id"] for f in failed}
        ok = [
            {"Id": i, "MessageId": f"m{i}", "MD5OfMessageBody": "x"} for i in "01" if i not in ids
        ]
        stubber.add_response("send_message_batch", {"Successful": ok, "Failed": failed})
    stubber.activate()
    return SqsDispatcher(client, "https://queue", ENDPOINT, sleep=lambda _s: None), stubber


def failure(entry: str, sender_fault: bool) -> dict[str, Any]:
    return {"Id": entry, "SenderFault": sender_fault, "Code": "InternalError", "Message": "oops"}


def test_entries_that_failed_on_the_service_side_are_sent_again() -> None:
    dispatcher, stubber = stubbed([[failure("1", False)], []])
    assert dispatcher.dispatch([task(0), task(1)]) == 2
    stubber.assert_no_pending_responses()


def test_entries_still_failing_after_the_bound_or_refused_as_ours_raise_dispatch_error() -> None:
    dispatcher, _ = stubbed([[failure("1", False)]] * 3)
    with pytest.raises(DispatchError, match="not queued after retries") as raised:
        dispatcher.dispatch([task(0), task(1)])
    assert (raised.value.sent, raised.value.failed) == (1, 1)
    dispatcher, _ = stubbed([[failure("0", True)]])
    with pytest.raises(DispatchError, match="refused by SQS") as raised:
        dispatcher.dispatch([task(0), task(1)])
    assert (raised.value.sent, raised.value.failed) == (1, 1)


class FailingProgress(MemoryProgress):
    """Cannot load the checkpoints of broadcast "bad" (as if DynamoDB were throttling it)."""

    def load(self, key: str) -> Checkpoint | None:
        if key.startswith("bad/"):
            raise StoreError("DynamoDB could not read the checkpoint: throttled")
        return super().load(key)


@pytest.fixture
def worker_container() -> Iterator[tuple[Container, FakePublisher]]:
    environ = {
        "STORE": "memory",
        "AWS_REGION": REGION,
        "DISPATCH": "off",
        "APIGW_ENDPOINT": ENDPOINT,
    }
    container = build(environ)
    fake = FakePublisher()
    container.publishers.override(providers.Singleton(Publishers, factory=lambda endpoint: fake))
    container.progress.override(providers.Singleton(FailingProgress))
    store = container.store()
    for n in range(12):
        store.add(Connection.open(f"c{n:02}=", int(time.time() * 1000)))
    composition.reset_shared(container)
    yield container, fake
    composition.reset_shared(None)


def as_event(messages: list[dict[str, Any]], arn: str) -> dict[str, Any]:
    records = [
        {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": m["Attributes"],
            "messageAttributes": {},
            "md5OfBody": m["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": arn,
            "awsRegion": REGION,
        }
        for m in messages
    ]
    return {"Records": records}


def test_a_failing_shard_is_retried_until_max_receive_then_dead_lettered(
    sqs: Any, worker_container: tuple[Container, FakePublisher]
) -> None:
    _, fake = worker_container
    dlq = sqs.create_queue(QueueName="fanout-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])
    redrive = {"deadLetterTargetArn": dlq_arn["Attributes"]["QueueArn"], "maxReceiveCount": 3}
    url = sqs.create_queue(
        QueueName="fanout",
        Attributes={"VisibilityTimeout": "0", "RedrivePolicy": json.dumps(redrive)},
    )["QueueUrl"]
    tasks = [task(0, 2), task(1, 2), task(0, 1, broadcast="bad")]
    SqsDispatcher(sqs, url, ENDPOINT).dispatch(tasks)
    attempts: dict[str, int] = {}
    for _ in range(10):  # the event source mapping's polling, bounded
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            break
        response = fanout_worker.handler(as_event(messages, "arn:fanout"), LambdaContext())
        failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
        for m in messages:
            attempts[decode(m["Body"])[0].key] = attempts.get(decode(m["Body"])[0].key, 0) + 1
            if m["MessageId"] not in failed:  # what the event source mapping deletes
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    assert attempts == {"b1/0": 1, "b1/1": 1, "bad/0": 3}
    [dead] = receive_all(sqs, dlq)
    assert decode(dead["Body"]) == (tasks[2], ENDPOINT)
    # The healthy shards reached every connection once; the failing one posted nothing.
    assert {cid: len(sent) for cid, sent in fake.sent.items()} == {
        f"c{n:02}=": 1 for n in range(12)
    }


def test_a_body_that_is_not_a_task_or_names_another_endpoint_is_refused_alone(
    worker_container: tuple[Container, FakePublisher], capsys: pytest.CaptureFixture[str]
) -> None:
    good: dict[str, Any] = {
        "MessageId": "good",
        "ReceiptHandle": "r1",
        "Body": encode(task(0, 1), ENDPOINT),
    }
    bad: dict[str, Any] = {
        "MessageId": "bad",
        "ReceiptHandle": "r2",
        "Body": '{"v": 1, "broadcast": 7}',
    }
    # A queue message that would make the worker post to someone else's API.
    elsewhere = "https://attacker.example/prod"
    foreign: dict[str, Any] = {"MessageId": "foreign", "ReceiptHandle": "r3",
                               "Body": encode(task(0, 1, broadcast="x"), elsewhere)}  # fmt: skip
    for m in (good, bad, foreign):
        m.update(MD5OfBody="x", Attributes={"ApproximateReceiveCount": "1"})
    event = as_event([good, bad, foreign], "arn:fanout")
    handler = fanout_worker.logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    previous = handler.setStream(buffer)  # Powertools keeps the stdout it saw at import
    try:
        response = fanout_worker.handler(event, LambdaContext())
    finally:
        if previous is not None:
            handler.setStream(previous)
    # Refused and acknowledged: no delivery of them could ever be right, so none is retried.
    assert response == {"batchItemFailures": []}
    assert len(worker_container[1].sent) == 12  # the good shard's recipients, once each
    lines = buffer.getvalue().splitlines()
    refusals = [json.loads(line) for line in lines if "shard refused" in line]
    assert {(r["message_id"], r["message"]) for r in refusals} == {
        ("bad", "shard refused: not a shard task"),
        ("foreign", "shard refused: shard names another @connections endpoint"),
    }
    out = capsys.readouterr().out
    [record] = [json.loads(line) for line in out.splitlines() if '"_aws"' in line]
    assert record["ShardsRefused"] == [1.0, 1.0]


def test_the_worker_logs_each_shard_with_its_invocation_and_counts_it_in_one_emf_record(
    worker_container: tuple[Container, FakePublisher], capsys: pytest.CaptureFixture[str]
) -> None:
    messages: list[dict[str, Any]] = [
        {"MessageId": f"m{n}", "ReceiptHandle": f"r{n}", "Body": encode(task(n, 2), ENDPOINT)}
        for n in range(2)
    ]
    for m in messages:
        m.update(MD5OfBody="x", Attributes={"ApproximateReceiveCount": "1"})
    handler = fanout_worker.logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    previous = handler.setStream(buffer)  # Powertools keeps the stdout it saw at import
    try:
        response = fanout_worker.handler(as_event(messages, "arn:fanout"), LambdaContext())
    finally:
        if previous is not None:
            handler.setStream(previous)
    assert response == {"batchItemFailures": []}
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    shards = [line for line in lines if line["message"] == "shard complete"]
    assert sorted(line["message_id"] for line in shards) == ["m0", "m1"]
    assert {line["function_request_id"] for line in shards} == {LambdaContext.aws_request_id}
    assert sum(line["delivered"] for line in shards) == 12
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    [record] = emf  # one per invocation, a value per shard
    assert sum(record["ShardPostsDelivered"]) == 12
    assert record["ShardsIncomplete"] == [0.0, 0.0]
    assert record["service"] == "switchboard-fanout"
