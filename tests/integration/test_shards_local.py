"""The local dispatch adapter: `serve`'s shards run the worker Lambda's handler on threads."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from dependency_injector import providers

from adapters.memory.dispatcher import LocalDispatcher, serve_queue
from adapters.memory.queue import LocalQueue
from adapters.sqs.messages import decode
from domain.errors import DispatchError
from domain.shards import EveryonePart, RoomPart, ShardTask
from entrypoints import aws_lambda
from entrypoints.composition.container import Container, build
from entrypoints.composition.publishers import Publishers
from entrypoints.local_gateway.lambda_runtime.fanout_queue import serving_fanout_queue
from tests.doubles import FakePublisher
from tests.support import LambdaContext, load_event

ENDPOINT = "http://127.0.0.1:9/dev"


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Container, FakePublisher, LocalQueue]]:
    settings = {
        "APIGW_ENDPOINT": ENDPOINT,  # the stack's own: the only one its worker posts to
        "STORE": "memory",
        "AWS_REGION": "eu-west-1",
        "SHARD_THRESHOLD": "5",
        "SHARD_SIZE": "4",
        "SHARD_WORKERS": "3",
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    container = build(settings)
    fake = FakePublisher()
    container.publishers.override(providers.Singleton(Publishers, factory=lambda endpoint: fake))
    aws_lambda.reset_container(container)
    with serving_fanout_queue("eu-west-1") as queue:  # as `serve` runs it
        yield container, fake, queue
    aws_lambda.reset_container(None)


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = aws_lambda.handler(event, LambdaContext())
    return result


def test_a_broadcast_above_the_threshold_reaches_everyone_once_through_shards(
    app: tuple[Container, FakePublisher, LocalQueue],
) -> None:
    container, fake, queue = app
    assert container.config.dispatch() == "local"  # no queue, not in Lambda
    now_ms = int(time.time() * 1000)
    members = [f"c{n:02}=" for n in range(30)]
    for cid in members:
        invoke(load_event("connect", connectionId=cid, connectedAt=now_ms))
    for cid in members[:12]:
        invoke(load_event("message", connectionId=cid, routeKey="join") | {"body": '{"room": "r"}'})
    fake.sent.clear()
    body = '{"action": "sendmessage", "data": "to the room", "room": "r"}'
    event = load_event("message", connectionId="c00=", routeKey="sendmessage") | {"body": body}
    assert invoke(event)["statusCode"] == 200
    event = load_event("message", connectionId="c00=", routeKey="$default")
    invoke(event | {"body": "to everyone"})
    assert queue.drain(timeout=30)
    assert queue.sent == 3 + 8  # the room: 12 members / 4; everyone: 30 / 4, rounded up
    # Shards of two broadcasts run side by side: each arrives once, in either order (the room's
    # as its envelope, the same bytes in every shard; the relay's as its text).
    heard = {cid: sorted(_data(p) for p in sent) for cid, sent in fake.sent.items()}
    assert heard == {
        cid: ["to everyone", "to the room"] if cid in members[:12] else ["to everyone"]
        for cid in members
    }
    envelopes = {bytes(p) for sent in fake.sent.values() for p in sent if p.startswith(b"{")}
    assert len(envelopes) == 1
    assert list(queue.dead_letters) == []


def test_a_failing_shard_is_delivered_again_then_dead_lettered() -> None:
    calls: list[dict[str, Any]] = []

    def broken_worker(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls.append(event["Records"][0])
        if decode(event["Records"][0]["body"])[0].broadcast_id == "bad":
            if len(calls) % 2:
                raise RuntimeError("the worker crashed")
            return {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
        return {"batchItemFailures": []}

    queue = LocalQueue(broken_worker, workers=2, max_receive=4, redelivery_delay=0)
    bad = ShardTask("bad", 0, RoomPart("lobby"), b"x")
    good = ShardTask("good", 0, EveryonePart(0, 1), b"y")
    serve_queue(queue)
    try:
        assert LocalDispatcher(ENDPOINT).dispatch([bad, good]) == 2
        assert queue.drain(timeout=30)
    finally:
        serve_queue(None)
        queue.close()
    by_task = [(decode(r["body"])[0].broadcast_id, r["attributes"]) for r in calls]
    bad_receives = [a["ApproximateReceiveCount"] for b, a in by_task if b == "bad"]
    assert bad_receives == ["1", "2", "3", "4"]
    assert [b for b, _ in by_task].count("good") == 1
    assert [decode(body) for body in queue.dead_letters] == [(bad, ENDPOINT)]


def test_the_worker_handler_takes_the_local_queue_s_events(
    app: tuple[Container, FakePublisher, LocalQueue],
) -> None:
    container, fake, queue = app
    container.store()  # the same store the worker reads
    LocalDispatcher(ENDPOINT).dispatch([ShardTask("b", 0, EveryonePart(0, 1), b"z")])
    assert queue.drain(timeout=30)
    assert list(queue.dead_letters) == [] and fake.sent == {}


def test_without_a_local_queue_a_local_dispatch_fails_saying_why() -> None:
    with pytest.raises(DispatchError, match="no local fan-out queue") as raised:
        LocalDispatcher(ENDPOINT).dispatch([ShardTask("b", 0, EveryonePart(0, 1), b"z")])
    assert (raised.value.sent, raised.value.failed) == (0, 1)


def _data(payload: bytes) -> str:
    return str(json.loads(payload)["data"]) if payload.startswith(b"{") else payload.decode()
