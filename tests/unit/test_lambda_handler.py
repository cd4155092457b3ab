"""The Lambda handler on recorded API Gateway events, over the memory store and a fake publisher.

Long: every route of the handler, on the same recorded events and container fixture.
"""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from dependency_injector import providers

from entrypoints import aws_lambda
from entrypoints.composition.container import Container, build
from entrypoints.composition.publishers import Publishers
from tests.doubles import FakeClock, FakePublisher
from tests.support import LambdaContext, load_event

NOW_MS = int(time.time() * 1000)


@pytest.fixture
def app() -> Iterator[tuple[Container, FakePublisher, list[str]]]:
    container = build({"STORE": "memory", "AWS_REGION": "eu-west-1"})
    fake = FakePublisher()
    endpoints: list[str] = []

    def factory(endpoint: str) -> FakePublisher:
        endpoints.append(endpoint)
        return fake

    container.publishers.override(providers.Singleton(Publishers, factory=factory))
    aws_lambda.reset_container(container)
    yield container, fake, endpoints
    aws_lambda.reset_container(None)


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = aws_lambda.handler(event, LambdaContext())
    return result


def connect(connection_id: str, connected_at_ms: int = NOW_MS) -> None:
    event = load_event("connect", connectionId=connection_id, connectedAt=connected_at_ms)
    assert invoke(event)["statusCode"] == 200


def message(connection_id: str, body: str, route: str = "$default") -> dict[str, Any]:
    return invoke(
        load_event("message", connectionId=connection_id, routeKey=route) | {"body": body}
    )


def test_connect_stores_the_connection_with_its_identity(app: Any) -> None:
    container, _, _ = app
    connect("L0SM9cOFvHcCIhw=")
    stored = container.store().get("L0SM9cOFvHcCIhw=")
    assert stored is not None
    assert stored.connected_at_ms == NOW_MS
    assert stored.expires_at == NOW_MS // 1000 + 7200
    assert stored.identity.source_ip == "203.0.113.7"
    assert stored.identity.allowed_rooms is None


def test_default_route_relays_the_frame_verbatim_to_everyone(app: Any) -> None:
    _, fake, endpoints = app
    for cid in ("AAAAAAAAAAAAAAA=", "BBBBBBBBBBBBBBB=", "CCCCCCCCCCCCCCC="):
        connect(cid)
    assert message("AAAAAAAAAAAAAAA=", "hello, not json")["statusCode"] == 200
    assert {cid: sent for cid, sent in fake.sent.items()} == {
        cid: [b"hello, not json"]
        for cid in ("AAAAAAAAAAAAAAA=", "BBBBBBBBBBBBBBB=", "CCCCCCCCCCCCCCC=")
    }
    # No APIGW_ENDPOINT: the endpoint comes from apiId, region and stage, not domainName.
    assert endpoints == ["https://abcdef1234.execute-api.eu-west-1.amazonaws.com/dev"]


def test_room_messages_reach_members_only_and_join_is_acknowledged(app: Any) -> None:
    _, fake, _ = app
    connect("AAAAAAAAAAAAAAA=")
    connect("BBBBBBBBBBBBBBB=")
    body = json.dumps({"action": "join", "room": "lobby"})
    assert message("AAAAAAAAAAAAAAA=", body, "join")["statusCode"] == 200
    assert fake.sent["AAAAAAAAAAAAAAA="] == [b'{"type":"joined","room":"lobby","seq":0}']
    body = json.dumps({"action": "sendmessage", "room": "lobby", "data": {"n": 1}})
    assert message("BBBBBBBBBBBBBBB=", body, "sendmessage")["statusCode"] == 200
    envelope = json.loads(fake.sent["AAAAAAAAAAAAAAA="][-1])
    assert (envelope["room"], envelope["seq"], envelope["data"]) == ("lobby", 1, {"n": 1})
    assert envelope["from"] == {"connectionId": "BBBBBBBBBBBBBBB=", "sub": None}
    assert "BBBBBBBBBBBBBBB=" not in fake.sent


def test_gone_connections_are_pruned_by_a_broadcast(app: Any) -> None:
    container, fake, _ = app
    clock = FakeClock(time.time())
    container.clock.override(providers.Object(clock))
    connect("AAAAAAAAAAAAAAA=")
    connect("GGGGGGGGGGGGGGG=", connected_at_ms=int(time.time() * 1000) - 60_000)
    clock.advance(3.0)  # past the establish grace, counted from when the record was stored
    fake.mark_gone("GGGGGGGGGGGGGGG=")
    message("AAAAAAAAAAAAAAA=", json.dumps({"action": "sendmessage", "data": "x"}), "sendmessage")
    assert container.store().get("GGGGGGGGGGGGGGG=") is None
    assert container.store().get("AAAAAAAAAAAAAAA=") is not None


def test_a_410_within_seconds_of_connect_does_not_prune(app: Any) -> None:
    # API Gateway answers 410 until the handshake that $connect's success completes is done:
    # FANOUT_ESTABLISH_GRACE_MS (2,000 by default) spares a record that young.
    container, fake, _ = app
    connect("AAAAAAAAAAAAAAA=")
    connect("YYYYYYYYYYYYYYY=", connected_at_ms=int(time.time() * 1000))
    fake.mark_gone("YYYYYYYYYYYYYYY=")
    result = message(
        "AAAAAAAAAAAAAAA=", json.dumps({"action": "sendmessage", "data": "x"}), "sendmessage"
    )
    assert result["statusCode"] == 200
    assert container.store().get("YYYYYYYYYYYYYYY=") is not None


def test_bad_fields_answer_the_sender_alone_with_an_error_frame(app: Any) -> None:
    _, fake, _ = app
    connect("AAAAAAAAAAAAAAA=")
    connect("BBBBBBBBBBBBBBB=")
    result = message(
        "AAAAAAAAAAAAAAA=", json.dumps({"action": "join", "room": "no spaces"}), "join"
    )
    assert result["statusCode"] == 400
    (frame,) = fake.sent["AAAAAAAAAAAAAAA="]
    error = json.loads(frame)
    assert error["type"] == "error" and error["error"] == "invalid_room"
    assert "BBBBBBBBBBBBBBB=" not in fake.sent


def test_whoami_and_disconnect(app: Any) -> None:
    container, fake, _ = app
    connect("AAAAAAAAAAAAAAA=")
    message("AAAAAAAAAAAAAAA=", '{"action":"whoami"}', "whoami")
    assert json.loads(fake.sent["AAAAAAAAAAAAAAA="][0]) == {
        "type": "whoami",
        "connectionId": "AAAAAAAAAAAAAAA=",
    }
    event = load_event("disconnect", connectionId="AAAAAAAAAAAAAAA=")
    assert invoke(event)["statusCode"] == 200
    assert container.store().get("AAAAAAAAAAAAAAA=") is None


def _context(route: str) -> dict[str, Any]:
    return {"routeKey": route, "connectionId": "x", "connectedAt": NOW_MS}


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({}, "no requestContext"),
        ("not an object", "JSON object"),
        ({"requestContext": {"routeKey": "$connect"}}, "connectionId"),
        ({"requestContext": {"routeKey": "nope", "connectionId": "x", "connectedAt": 1}}, "nope"),
        ({"requestContext": _context("$default"), "body": 7}, "string"),
        ({"requestContext": _context("$default")}, "needs a body"),
        # Without connectedAt a record would have expired in 1970.
        ({"requestContext": {"routeKey": "$connect", "connectionId": "x"}}, "connectedAt"),
        ({"requestContext": _context("$connect") | {"connectedAt": "soon"}}, "connectedAt"),
    ],
)
def test_malformed_events_get_400_with_a_clear_message(
    app: Any, event: Any, expected: str, caplog: pytest.LogCaptureFixture
) -> None:
    result = aws_lambda.handler(event, LambdaContext())
    assert result["statusCode"] == 400
    assert expected in json.loads(result["body"])["message"]


def test_one_structured_log_line_per_invocation(
    app: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # Powertools' handler keeps the stdout it saw at import: point it at a buffer of ours.
    buffer = io.StringIO()
    handler = aws_lambda.logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(buffer)
    try:
        connect("AAAAAAAAAAAAAAA=")
        message("AAAAAAAAAAAAAAA=", "hi")
    finally:
        if previous is not None:
            handler.setStream(previous)
    output = buffer.getvalue() + capsys.readouterr().out
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    logs = [line for line in lines if line.get("message") == "invocation"]
    # A $connect that went well logs at DEBUG and counts no metric: API Gateway's access log
    # and its ConnectCount metric have it.
    assert [line["route"] for line in logs] == ["$default"]
    last = logs[-1]
    assert last["connection_id"] == "AAAAAAAAAAAAAAA="
    assert last["delivered"] == 1 and last["pruned"] == 0 and last["failed"] == 0
    assert "cold_start" in last and "duration_ms" in last
    metrics = [line for line in lines if "_aws" in line]
    assert any("PostsDelivered" in m for m in metrics)
    assert not any("Connects" in m for m in metrics)


def test_join_is_limited_to_the_rooms_the_authorizer_allowed(app: Any) -> None:
    _, fake, _ = app
    authorizer = {"principalId": "alice", "sub": "alice", "rooms": "public:*,user:{sub}"}
    event = load_event(
        "connect", connectionId="AAAAAAAAAAAAAAA=", connectedAt=NOW_MS, authorizer=authorizer
    )
    assert invoke(event)["statusCode"] == 200

    def join(room: str) -> dict[str, Any]:
        event = load_event(
            "message", connectionId="AAAAAAAAAAAAAAA=", routeKey="join", authorizer=authorizer
        )
        event["body"] = json.dumps({"action": "join", "room": room})
        frame = fake.sent["AAAAAAAAAAAAAAA="]
        invoke(event)
        return dict(json.loads(frame[-1]))

    assert join("public:news") == {"type": "joined", "room": "public:news", "seq": 0}
    assert join("user:alice") == {"type": "joined", "room": "user:alice", "seq": 0}
    assert join("user:bob")["error"] == "forbidden_room"
    assert join("staff")["error"] == "forbidden_room"
