"""Every event the gateway sends a handler has the fields of API Gateway's recorded events."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect
from websockets.frames import Opcode

from tests.e2e.frame_client import FrameClient
from tests.e2e.gateway_process import Gateway

EVENTS = Path(__file__).resolve().parents[1] / "events"
GATEWAY_ID = re.compile(r"[A-Za-z0-9_-]{15}=")
REQUEST_TIME = re.compile(r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000")


def recorded(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return event


def run(coroutine: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, 30))


def test_connect_event_has_api_gateways_fields(recording_gateway: Gateway) -> None:
    async def scenario() -> None:
        url = f"{recording_gateway.ws_url}?tag=shape&x=1&x=2"
        async with connect(url, user_agent_header="e2e-agent/1.0"):
            pass

    run(scenario())
    connection_id = recording_gateway.connection_id("shape")
    [call] = recording_gateway.calls(connection_id, "$connect")
    event, expected = call["event"], recorded("connect")
    assert set(event) == set(expected)
    context = event["requestContext"]
    assert set(context) == set(expected["requestContext"])
    assert context["eventType"] == "CONNECT"
    assert context["stage"] == "dev"
    assert context["messageDirection"] == "IN"
    assert context["identity"] == {"sourceIp": "127.0.0.1", "userAgent": "e2e-agent/1.0"}
    assert context["requestId"] == context["extendedRequestId"]
    for key in ("connectionId", "requestId"):
        assert GATEWAY_ID.fullmatch(context[key]), context[key]
    assert REQUEST_TIME.fullmatch(context["requestTime"])
    assert context["requestTimeEpoch"] >= context["connectedAt"] > 1_600_000_000_000
    assert re.fullmatch(r"[a-z0-9]{10}", context["apiId"])
    assert event["queryStringParameters"] == {"tag": "shape", "x": "2"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["shape"], "x": ["1", "2"]}
    headers = event["headers"]
    assert set(expected["headers"]) <= set(headers)
    assert headers["X-Forwarded-For"] == "127.0.0.1"
    assert headers["X-Forwarded-Port"] == str(recording_gateway.port)
    assert headers["X-Forwarded-Proto"] == "http"
    assert headers["Host"] == context["domainName"] == f"127.0.0.1:{recording_gateway.port}"
    assert not {"Connection", "Upgrade"} & set(headers)  # hop-by-hop: not passed on
    assert event["multiValueHeaders"] == {name: [value] for name, value in headers.items()}
    assert event["isBase64Encoded"] is False


def test_message_events_are_routed_by_action(recording_gateway: Gateway) -> None:
    frames = ["plain text", '{"action": "echo", "data": 1}', '{"action": "nope"}', "[1, 2]"]

    async def scenario() -> list[str]:
        async with connect(f"{recording_gateway.ws_url}?tag=routes") as ws:
            replies = []
            for frame in frames:
                await ws.send(frame)
                replies.append(str(await ws.recv()))
            return replies

    replies = run(scenario())
    assert replies == [
        "got 10 on $default",
        "got 29 on echo",
        "got 18 on $default",
        "got 6 on $default",
    ]
    connection_id = recording_gateway.connection_id("routes")
    calls = [c for c in recording_gateway.calls(connection_id) if "body" in c["event"]]
    expected = recorded("message")
    for call, frame in zip(calls, frames, strict=True):
        event = call["event"]
        assert set(event) == set(expected)
        assert set(event["requestContext"]) == set(expected["requestContext"])
        assert event["body"] == frame
        assert event["requestContext"]["eventType"] == "MESSAGE"
        assert GATEWAY_ID.fullmatch(event["requestContext"]["messageId"])
    assert [c["event"]["requestContext"]["routeKey"] for c in calls] == [
        "$default",
        "echo",
        "$default",
        "$default",
    ]


def test_disconnect_event_reports_the_close_code(recording_gateway: Gateway) -> None:
    async def scenario() -> None:
        async with connect(f"{recording_gateway.ws_url}?tag=bye") as ws:
            await ws.close(4000, "done here")
        client = await FrameClient.connect(f"{recording_gateway.ws_url}?tag=bye-empty")
        client.close()  # a close frame without a status code
        assert (await client.recv_frame()).opcode is Opcode.CLOSE

    run(scenario())
    expected = recorded("disconnect")
    outcomes = []
    for tag in ("bye", "bye-empty"):
        connection_id = recording_gateway.connection_id(tag)
        [call] = recording_gateway.wait_for_route(connection_id, "$disconnect")
        event = call["event"]
        assert set(event) == set(expected)
        assert set(event["requestContext"]) == set(expected["requestContext"])
        assert event["headers"]["Host"] == f"127.0.0.1:{recording_gateway.port}"
        context = event["requestContext"]
        outcomes.append((context["disconnectStatusCode"], context["disconnectReason"]))
    assert outcomes == [(4000, "done here"), (1005, "Client-side close frame status not set")]


def test_handler_gets_a_lambda_context(recording_gateway: Gateway) -> None:
    async def scenario() -> None:
        async with connect(f"{recording_gateway.ws_url}?tag=context"):
            pass

    run(scenario())
    connection_id = recording_gateway.connection_id("context")
    [call] = recording_gateway.calls(connection_id, "$connect")
    context = call["context"]
    uuid.UUID(context["aws_request_id"])
    assert context["function_version"] == "$LATEST"
    assert context["invoked_function_arn"].startswith("arn:aws:lambda:us-east-1:")
    assert context["invoked_function_arn"].endswith(f":function:{context['function_name']}")
    assert context["log_group_name"] == f"/aws/lambda/{context['function_name']}"
    assert "[$LATEST]" in context["log_stream_name"]
    assert int(context["memory_limit_in_mb"]) > 0
    assert 0 < context["remaining_ms"] <= 29_000


def test_connect_without_query_string_has_no_query_fields(recording_gateway: Gateway) -> None:
    async def scenario() -> str:
        async with connect(recording_gateway.ws_url) as ws:
            await ws.send("id")
            return str(await ws.recv())

    connection_id = run(scenario())
    [call] = recording_gateway.calls(connection_id, "$connect")
    assert "queryStringParameters" not in call["event"]
    assert "multiValueQueryStringParameters" not in call["event"]
