"""`serve --template`: apps written for AWS in AWS's usual style (tests/apps/), unchanged, driven
by real WebSocket clients; and templates serve cannot run, refused at start with one clear line.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import boto3
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.e2e.gateway_process import ROOT, Gateway, start_gateway

APPS = Path(__file__).resolve().parents[1] / "apps"


@pytest.fixture(scope="module")
def chat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    # Every $disconnect dropped, as AWS may: a closed client stays in the app's table until a
    # post to it answers 410 and the app deletes it.
    template = str(APPS / "chat_sam" / "template.yaml")
    args = ("--template", template, "--drop-disconnect-rate", "1.0", "--seed", "1")
    gateway = start_gateway(tmp_path_factory.mktemp("chat-sam"), *args, handler=None)
    yield gateway
    assert gateway.stop() == 0, gateway.log()[-3000:]


def say(ws: ClientConnection, text: str) -> None:
    ws.send(json.dumps({"action": "sendmessage", "data": text}))


def local_client(gateway: Gateway, service: Literal["dynamodb", "sqs", "ssm"]) -> Any:
    """A boto3 client of serve's embedded moto (DynamoDB, SQS, SSM), as the log names it."""
    endpoint = re.search(r"embedded moto DynamoDB at (\S+)", gateway.log())
    assert endpoint, gateway.log()
    return boto3.client(
        service, endpoint_url=endpoint[1], region_name="us-east-1",
        aws_access_key_id="local", aws_secret_access_key="local",
    )  # fmt: skip


def table_ids(gateway: Gateway) -> set[str]:
    """The connection ids in the app's own table, read from the embedded DynamoDB."""
    items = local_client(gateway, "dynamodb").scan(TableName="chat-connections")["Items"]
    return {item["connectionId"]["S"] for item in items}


def test_a_sam_chat_app_runs_unchanged(chat: Gateway) -> None:
    assert chat.stage == "Prod"  # the template's stage
    log = chat.log()
    assert "not reproduced: OnConnectFunctionRole (AWS::IAM::Role)" in log
    assert "not reproduced: ConnectionsTable.SSESpecification" in log
    with connect(chat.ws_url) as a, connect(chat.ws_url) as b:
        c = connect(chat.ws_url)
        say(a, "hello")  # https://{domainName}/{stage}: the local TLS listener, the local CA
        assert [ws.recv(timeout=20) for ws in (a, b, c)] == ["hello"] * 3
        assert len(table_ids(chat)) == 3
        c.close()  # its $disconnect is dropped: still in the table
        time.sleep(0.5)
        assert len(table_ids(chat)) == 3
        say(b, "after c left")
        assert [ws.recv(timeout=20) for ws in (a, b)] == ["after c left"] * 2
        deadline = time.monotonic() + 20
        while len(table_ids(chat)) != 2:  # the 410 from c made the app delete it
            assert time.monotonic() < deadline, chat.log()[-3000:]
            time.sleep(0.1)
        assert "Found stale connection, deleting" in chat.log()
        a.send(json.dumps({"action": "no such route"}))  # the app has no $default route
        refused = json.loads(a.recv(timeout=20))
        assert refused["message"] == "Forbidden"


def bad_app(tmp_path: Path, edit: str, replacement: str) -> str:
    """serve's error for the chat app with one line of its template changed: serve must stop."""
    source = APPS / "chat_sam"
    app = tmp_path / "app"
    subprocess.run(["cp", "-r", str(source), str(app)], check=True)
    template = app / "template.yaml"
    text = template.read_text()
    assert edit in text
    template.write_text(text.replace(edit, replacement, 1))
    run = subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", "serve", "--port", "0",
         "--template", str(template)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Switchboard local gateway" not in run.stdout  # nothing started
    errors = [line for line in run.stderr.splitlines() if "not reproduced" not in line]
    return "\n".join(errors)


@pytest.mark.parametrize(
    ("edit", "replacement", "expected"),
    [
        ("      CodeUri: sendmessage/\n      Handler: app.handler",
         "      CodeUri: sendmessage/\n      Handler: app.nothing",
         r"SendMessageFunction\.Handler 'app\.nothing': AttributeError"),
        ("CodeUri: ondisconnect/", "CodeUri: gone/", r"OnDisconnectFunction: CodeUri .*gone"),
        ("ApiId: !Ref ChatWebSocket\n      RouteKey: sendmessage",
         "ApiId: !Ref ChatWebSocket\n      RouteKey: !Ref Nowhere",
         r"SendRoute\.RouteKey: Ref Nowhere"),
        ("      Target: !Join ['/', ['integrations', !Ref SendInteg]]\n", "",
         r"SendRoute\.Target: route 'sendmessage' has no integration"),
    ],
    ids=["unknown handler", "missing code folder", "unresolvable Ref", "route without integration"],
)  # fmt: skip
def test_a_bad_template_gets_one_clear_error(
    tmp_path: Path, edit: str, replacement: str, expected: str
) -> None:
    error = bad_app(tmp_path, edit, replacement)
    assert re.search(expected, error), error


@pytest.fixture(scope="module")
def echo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    template = str(APPS / "echo_cfn" / "template.json")
    gateway = start_gateway(tmp_path_factory.mktemp("echo"), "--template", template, handler=None)
    yield gateway
    assert gateway.stop() == 0, gateway.log()[-3000:]


def test_a_route_response_sends_the_body_back_and_a_one_way_route_nothing(echo: Gateway) -> None:
    with connect(echo.ws_url) as ws:
        ws.send(json.dumps({"action": "ping"}))  # a route without a route response
        ws.send("hello")  # $default, which has one
        assert ws.recv(timeout=20) == "echo: hello"  # the first frame back: ping sent nothing


def test_connect_picks_the_subprotocol_or_none(echo: Gateway) -> None:
    with connect(echo.ws_url, subprotocols=["other", "echo.v1"]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "echo.v1"
    # $connect named none of those offered: the handshake completes with no subprotocol (no
    # Sec-WebSocket-Protocol in the answer), which a browser that asked for one then fails.
    with connect(echo.ws_url, subprotocols=["other"]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol is None
        assert ws.response is not None
        assert "Sec-WebSocket-Protocol" not in ws.response.headers


@pytest.fixture(scope="module")
def authorized(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    template = str(APPS / "authorized_sam" / "template.yaml")
    workdir = tmp_path_factory.mktemp("authorized")
    gateway = start_gateway(workdir, "--template", template, handler=None)
    yield gateway
    assert gateway.stop() == 0, gateway.log()[-3000:]


@pytest.mark.parametrize("query", ["", "?token=wrong"])
def test_the_template_s_authorizer_refuses_with_401(authorized: Gateway, query: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(authorized.ws_url + query).close()
    assert refused.value.response.status_code == 401


def test_the_template_s_authorizer_context_reaches_the_routes(authorized: Gateway) -> None:
    with connect(authorized.ws_url + "?token=open-sesame") as ws:
        ws.send(json.dumps({"action": "who"}))
        assert json.loads(ws.recv(timeout=20)) == {"user": "alice"}


def test_a_queue_feeds_its_worker_and_a_failing_message_goes_to_the_dead_letters(
    tmp_path: Path,
) -> None:
    template = str(APPS / "queue_sam" / "template.yaml")
    gateway = start_gateway(tmp_path, "--template", template, handler=None)
    try:
        with connect(gateway.ws_url) as ws:
            ws.send(json.dumps({"action": "sendmessage", "data": "poison"}))
            ws.send(json.dumps({"action": "sendmessage", "data": "hello"}))
            assert ws.recv(timeout=20) == "processed: hello"  # the worker, fed by SQS, answered
            sqs = local_client(gateway, "sqs")
            url = sqs.get_queue_url(QueueName="queued-dead-letters")["QueueUrl"]
            deadline, dead = time.monotonic() + 30, ""
            while not dead:  # failed twice (maxReceiveCount 2), 1 s visibility timeout each
                assert time.monotonic() < deadline, gateway.log()[-3000:]
                got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
                dead = got[0]["Body"] if got else ""
            assert json.loads(dead)["data"] == "poison"
        assert "cannot work on poison" in gateway.log()
    finally:
        assert gateway.stop() == 0, gateway.log()[-3000:]
