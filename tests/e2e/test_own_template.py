"""`serve --template infra/template.yaml --code .`: the project's own stack, read from its
template like any user's app (the handler, the authorizer, the publish HTTP API, the fan-out
queue and worker, the table), behaves as `serve --auth` does."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from entrypoints.publish_client import publish
from infra.cfn_yaml import load_template
from tests.e2e.gateway_process import ROOT, Gateway, start_gateway
from tests.e2e.test_template_apps import local_client

SECRET_NAME = "/switchboard/jwt-secret"  # the template's AuthSecretParameter default


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Gateway, dict[str, str]]]:
    folder = tmp_path_factory.mktemp("own-template")
    secret_file = folder / "secret"
    secret_file.write_text("a-local-secret-for-the-own-template-test\n")
    environment = {"SWITCHBOARD_SECRET_FILE": str(secret_file)}
    # Sharded from 2 recipients on: a broadcast goes through SQS to the worker function.
    args = ("--template", "infra/template.yaml",  # --code: the current folder, the project's
            "--parameter", "ShardThreshold=2", "--parameter", "ShardSize=1")  # fmt: skip
    gateway = start_gateway(folder, *args, handler=None, environment=environment)
    # The secret lives in SSM on AWS; here in serve's embedded moto, put there as a user would.
    local_client(gateway, "ssm").put_parameter(
        Name=SECRET_NAME, Value=secret_file.read_text().strip(), Type="SecureString"
    )
    yield gateway, environment
    assert gateway.stop() == 0, gateway.log()[-3000:]


def token(environment: dict[str, str], *args: str) -> str:
    command = [sys.executable, "-m", "entrypoints.cli", "token", *args]
    env = {**dict(__import__("os").environ), **environment}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def frame(ws: ClientConnection, kind: str) -> dict[str, Any]:
    while True:
        value: dict[str, Any] = json.loads(ws.recv(timeout=20))
        if value["type"] == kind:
            return value


def test_the_own_template_serves_what_serve_does(own: tuple[Gateway, dict[str, str]]) -> None:
    gateway, environment = own
    with pytest.raises(InvalidStatus) as refused:
        connect(gateway.ws_url).close()  # no token: the template's authorizer
    assert refused.value.response.status_code == 401
    alice = token(environment, "--sub", "alice", "--rooms", "public:*", "user:{sub}")
    bob = token(environment, "--sub", "bob", "--rooms", "public:*", "--broadcast")
    with (
        connect(f"{gateway.ws_url}?token={alice}") as a1,
        connect(f"{gateway.ws_url}?token={alice}") as a2,
        connect(f"{gateway.ws_url}?token={bob}") as b,
    ):
        for ws in (a1, b):
            ws.send(json.dumps({"action": "join", "room": "public:x"}))
            assert frame(ws, "joined") == {"type": "joined", "room": "public:x", "seq": 0}
        b.send(json.dumps({"action": "sendmessage", "room": "public:x", "data": "hi", "id": "m1"}))
        for ws in (a1, b):
            message = frame(ws, "message")
            assert (message["seq"], message["data"], message["from"]["sub"]) == (1, "hi", "bob")
        # A backend publishes through the template's HTTP API (AWS_IAM: signed by botocore).
        session = boto3.Session(
            aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1"
        )
        url = f"http://127.0.0.1:{gateway.port}/publish"
        answer = publish(url, "user:alice", {"note": "to every tab"}, session=session)
        assert answer["seq"] == 1 and answer["recipients"] == 2
        for ws in (a1, a2):
            message = frame(ws, "message")
            assert (message["room"], message["from"]) == ("user:alice", None)
        # A broadcast to everyone, sharded: SQS, the worker, the https @connections endpoint.
        b.send(json.dumps({"action": "sendmessage", "data": "to all"}))
        for ws in (a1, a2, b):
            assert frame(ws, "message")["data"] == "to all"
    assert "WorkerEventSource" not in gateway.log() or "failed" not in gateway.log()
    assert '"shard complete"' in gateway.log()


SERVED = {
    "AWS::ApiGatewayV2::Api", "AWS::ApiGatewayV2::Route", "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGatewayV2::Stage", "AWS::ApiGatewayV2::Deployment", "AWS::ApiGatewayV2::Authorizer",
    "AWS::Lambda::Function", "AWS::DynamoDB::Table", "AWS::SQS::Queue",
    "AWS::Lambda::EventSourceMapping",
}  # fmt: skip


def test_nothing_of_the_own_template_is_ignored_silently(own: tuple[Gateway, Any]) -> None:
    log = own[0].log()
    assert f"Handler: its Code is an S3 object; running the code in {ROOT} (--code)" in log
    resources = load_template()["Resources"]
    others = [name for name, resource in resources.items() if resource["Type"] not in SERVED]
    assert len(others) > 10  # roles, log groups, permissions, an alarm, the account...
    assert [name for name in others if f"not reproduced: {name} " not in log] == []
