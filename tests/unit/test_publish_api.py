"""POST /publish's handler on payload format 2.0 events, over the memory store and a fake
publisher: every answer it gives, and what the connections receive."""

from __future__ import annotations

import base64
import copy
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from dependency_injector import providers

from domain.limits import MAX_PAYLOAD_BYTES
from domain.service import Switchboard
from entrypoints import aws_lambda, publish_api
from entrypoints.composition import services
from entrypoints.composition.container import Container, build
from entrypoints.composition.publishers import Publishers
from tests.doubles import FakePublisher
from tests.support import LambdaContext, load_event
from tests.unit.sharding_rig import RecordingDispatcher

ENDPOINT = "https://abcdef1234.execute-api.eu-west-1.amazonaws.com/dev"
BACKEND = "arn:aws:iam::123456789012:user/backend"


@pytest.fixture
def app() -> Iterator[tuple[Container, FakePublisher]]:
    container = build({"STORE": "memory", "AWS_REGION": "eu-west-1", "APIGW_ENDPOINT": ENDPOINT})
    fake = FakePublisher()
    container.publishers.override(providers.Singleton(Publishers, factory=lambda endpoint: fake))
    aws_lambda.reset_container(container)
    yield container, fake
    aws_lambda.reset_container(None)


def service(container: Container) -> Switchboard:
    return services.for_endpoint(container, ENDPOINT)


def connect(container: Container, *connection_ids: str, room: str | None = None) -> None:
    for cid in connection_ids:
        service(container).connect(cid, int(time.time() * 1000))
        if room is not None:
            join = json.dumps({"action": "join", "room": room})
            assert service(container).on_message(cid, "join", join).error is None


def publish(body: Any, user_arn: str = BACKEND, raw: bool = False) -> tuple[int, Any]:
    event = copy.deepcopy(load_event("publish"))
    event["body"] = body if raw else json.dumps(body)
    event["requestContext"]["authorizer"]["iam"]["userArn"] = user_arn
    result = publish_api.handler(event, LambdaContext())
    assert result["headers"] == {"content-type": "application/json"}
    return result["statusCode"], json.loads(result["body"])


def test_a_room_s_members_get_the_envelope_from_no_connection(app: Any) -> None:
    container, fake = app
    connect(container, "AAAAAAAAAAAAAAA=", "BBBBBBBBBBBBBBB=", room="lobby")
    connect(container, "OOOOOOOOOOOOOOO=")
    fake.sent.clear()  # the joined frames
    status, body = publish({"room": "lobby", "data": {"n": 1}, "id": "p1"})
    assert status == 200
    assert body == {"room": "lobby", "seq": 1, "id": "p1", "recipients": 2, "duplicate": False}
    expected = {"type": "message", "room": "lobby", "seq": 1, "id": "p1", "from": None}
    for cid in ("AAAAAAAAAAAAAAA=", "BBBBBBBBBBBBBBB="):
        [frame] = fake.sent[cid]
        assert json.loads(frame) == expected | {"data": {"n": 1}}
    assert "OOOOOOOOOOOOOOO=" not in fake.sent


def test_without_a_room_everyone_gets_it_with_no_seq(app: Any) -> None:
    container, fake = app
    connect(container, "AAAAAAAAAAAAAAA=", "BBBBBBBBBBBBBBB=")
    status, body = publish({"data": "all"})
    assert status == 200
    assert (body["room"], body["seq"], body["recipients"]) == (None, None, 2)
    assert len(body["id"]) == 32  # made by the server
    for cid in ("AAAAAAAAAAAAAAA=", "BBBBBBBBBBBBBBB="):
        assert json.loads(fake.sent[cid][0])["data"] == "all"


def test_the_same_id_from_the_same_caller_is_delivered_once(app: Any) -> None:
    container, fake = app
    connect(container, "AAAAAAAAAAAAAAA=", room="lobby")
    first = publish({"room": "lobby", "data": 1, "id": "once"})
    again = publish({"room": "lobby", "data": 1, "id": "once"})
    assert first == (200, first[1] | {"seq": 1, "duplicate": False})
    assert again == (200, first[1] | {"duplicate": True, "recipients": 0})
    assert len(fake.sent["AAAAAAAAAAAAAAA="]) == 2  # joined, then the message once
    # Another IAM identity's id is its own.
    other = publish({"room": "lobby", "data": 2, "id": "once"}, user_arn="arn:aws:iam::1:user/b")
    assert (other[1]["seq"], other[1]["duplicate"]) == (2, False)


def test_a_large_audience_is_handed_to_fan_out_workers_with_202(app: Any) -> None:
    container, _ = app
    container.config.shard_threshold.from_value(1)
    container.config.shard_size.from_value(1)
    dispatcher = RecordingDispatcher()
    container.dispatcher.override(providers.Factory(lambda endpoint: dispatcher))
    connect(container, "AAAAAAAAAAAAAAA=", "BBBBBBBBBBBBBBB=", "CCCCCCCCCCCCCCC=", room="big")
    status, body = publish({"room": "big", "data": "x", "id": "s1"})
    assert status == 202
    assert body == {"room": "big", "seq": 1, "id": "s1", "recipients": 3, "duplicate": False}
    assert dispatcher.tasks
    assert {json.loads(task.payload)["from"] for task in dispatcher.tasks} == {None}


TOO_LARGE = {"data": "x" * MAX_PAYLOAD_BYTES}
# Fits as a body, not once wrapped in the envelope (type, room, seq, id, from).
ENVELOPE_TOO_LARGE = {"data": "x" * (MAX_PAYLOAD_BYTES - 20)}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("not json", "invalid_body"),
        ("[1, 2]", "invalid_body"),
        ('{"data": NaN}', "invalid_body"),
        ('{"room": "r", "data": Infinity}', "invalid_body"),
        ('{"room": "r"}', "missing_data"),
        ('{"room": "no spaces", "data": 1}', "invalid_room"),
        ('{"room": 7, "data": 1}', "invalid_room"),
        ('{"data": 1, "id": ""}', "invalid_id"),
        (json.dumps({"data": 1, "id": "x" * 65}), "invalid_id"),
        (json.dumps(TOO_LARGE), "payload_too_large"),
        (json.dumps(ENVELOPE_TOO_LARGE), "payload_too_large"),
        ('{"data": "\\ud800"}', "invalid_text"),
    ],
)
def test_a_bad_body_gets_400_with_its_code_and_reaches_nobody(
    app: Any, body: str, code: str
) -> None:
    container, fake = app
    connect(container, "AAAAAAAAAAAAAAA=", room="r")
    fake.sent.clear()
    status, answer = publish(body, raw=True)
    assert (status, answer["error"]) == (400, code)
    assert answer["message"]
    assert fake.sent == {}


def test_a_base64_body_is_read_as_its_text(app: Any) -> None:
    container, fake = app
    connect(container, "AAAAAAAAAAAAAAA=")
    event = load_event("publish")
    event.update(body=base64.b64encode(b'{"data": "b64"}').decode(), isBase64Encoded=True)
    assert publish_api.handler(event, LambdaContext())["statusCode"] == 200
    assert json.loads(fake.sent["AAAAAAAAAAAAAAA="][0])["data"] == "b64"
    event.update(body=base64.b64encode(b"\xff\xfe").decode())
    result = publish_api.handler(event, LambdaContext())
    assert (result["statusCode"], json.loads(result["body"])["error"]) == (400, "invalid_body")


def test_the_caller_is_its_iam_arn_else_its_access_key() -> None:
    event = load_event("publish")
    assert publish_api.caller(event) == BACKEND
    event["requestContext"]["authorizer"]["iam"]["userArn"] = None
    assert publish_api.caller(event) == "AKIAIOSFODNN7EXAMPLE"
    del event["requestContext"]["authorizer"]
    assert publish_api.caller(event) == publish_api.ANONYMOUS
