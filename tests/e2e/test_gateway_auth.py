"""$connect authorization: `serve --auth` with `switchboard token`, and any `--authorizer`.

Long: each case starts a gateway with its own authorizer; the helpers are shared.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from adapters.tokens.jwt_tokens import mint
from tests.e2e.gateway_process import ROOT, Gateway, start_gateway
from tests.e2e.stub_authorizer import CONTEXT

APP_HANDLER = "entrypoints.aws_lambda:handler"
STUB_AUTHORIZER = "tests.e2e.stub_authorizer:handler"


def run(coroutine: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, 30))


@pytest.fixture(scope="module")
def secret_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One local secret for the server and `switchboard token`, never the user's own."""
    path = tmp_path_factory.mktemp("secret") / "local-auth-secret"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SWITCHBOARD_SECRET_FILE", str(path))
        yield path


@pytest.fixture(scope="module")
def auth_gateway(tmp_path_factory: pytest.TempPathFactory, secret_file: Path) -> Iterator[Gateway]:
    gateway = start_gateway(tmp_path_factory.mktemp("auth"), "--auth", handler=APP_HANDLER)
    yield gateway
    assert gateway.stop() == 0, gateway.log()


@pytest.fixture(scope="module")
def stub_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """The recording handler behind the stub authorizer."""
    gateway = start_gateway(tmp_path_factory.mktemp("stub-auth"), "--authorizer", STUB_AUTHORIZER)
    yield gateway
    assert gateway.stop() == 0, gateway.log()


def token_command(*args: str) -> str:
    """`switchboard token ARGS`, run as a user runs it."""
    command = [sys.executable, "-m", "entrypoints.cli", "token", *args]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=30, check=True)
    return done.stdout.strip()


def handshake_status(url: str) -> int:
    async def attempt() -> int:
        try:
            async with connect(url):
                return 101
        except InvalidStatus as refused:
            return refused.response.status_code

    return int(run(attempt()))


def test_no_token_is_refused_with_401(auth_gateway: Gateway) -> None:
    assert handshake_status(auth_gateway.ws_url) == 401


@pytest.mark.parametrize(
    "kind", ["garbage", "expired", "other-secret", "other-audience", "too-long"]
)
def test_a_bad_token_is_refused_with_403(
    auth_gateway: Gateway, secret_file: Path, kind: str
) -> None:
    secret = secret_file.read_text().strip()  # the server made it at start
    tokens = {
        "garbage": "not.a.jwt",
        "expired": mint(secret, "alice", ["public:*"], 60, "switchboard", "switchboard", now=0),
        "other-secret": mint("x" * 32, "alice", ["public:*"], 600, "switchboard", "switchboard"),
        "other-audience": mint(secret, "alice", ["public:*"], 600, "switchboard", "elsewhere"),
        # Longer than AUTH_MAX_TTL's default, a day.
        "too-long": mint(secret, "alice", ["public:*"], 86_401, "switchboard", "switchboard"),
    }
    assert handshake_status(f"{auth_gateway.ws_url}?token={tokens[kind]}") == 403


def test_a_minted_token_connects_and_limits_rooms(auth_gateway: Gateway) -> None:
    token = token_command("--sub", "alice", "--rooms", "public:*", "user:{sub}")

    async def scenario() -> list[Any]:
        answers = []
        async with connect(f"{auth_gateway.ws_url}?token={token}") as ws:
            for room in ("public:x", "user:alice", "user:bob"):
                await ws.send(json.dumps({"action": "join", "room": room}))
                answers.append(json.loads(await ws.recv()))
            await ws.send(json.dumps({"action": "sendmessage", "room": "user:bob", "data": "hi"}))
            answers.append(json.loads(await ws.recv()))
        return answers

    joined_x, joined_alice, refused_join, refused_send = run(scenario())
    assert joined_x == {"type": "joined", "room": "public:x", "seq": 0}
    assert joined_alice == {"type": "joined", "room": "user:alice", "seq": 0}
    assert refused_join["type"] == refused_send["type"] == "error"
    assert refused_join["error"] == refused_send["error"] == "forbidden_room"
    assert "user:bob" in refused_join["message"]


def test_every_tab_of_a_user_hears_its_user_room_without_joining(auth_gateway: Gateway) -> None:
    alice = token_command("--sub", "alice", "--rooms", "user:{sub}")
    bob = token_command("--sub", "bob", "--rooms", "public:*")

    async def scenario() -> list[Any]:
        tabs = [await connect(f"{auth_gateway.ws_url}?token={alice}") for _ in range(2)]
        other = await connect(f"{auth_gateway.ws_url}?token={bob}")
        message = {"action": "sendmessage", "room": "user:alice", "data": "on every device"}
        await tabs[0].send(json.dumps(message))
        heard = [json.loads(await ws.recv()) for ws in tabs]
        await other.send(json.dumps({"action": "whoami"}))  # bob heard nothing before this
        heard.append(json.loads(await other.recv()))
        for ws in (*tabs, other):
            await ws.close()
        return heard

    first, second, bobs = run(scenario())
    assert first == second
    assert (first["room"], first["data"], first["from"]["sub"]) == (
        "user:alice",
        "on every device",
        "alice",
    )
    assert bobs["type"] == "whoami"


def authorizer_events(gateway: Gateway) -> list[dict[str, Any]]:
    path = Path(str(gateway.recording) + ".authorizer")
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [json.loads(line) for line in lines]


def authorizer_event(gateway: Gateway, tag: str) -> dict[str, Any]:
    found = [e for e in authorizer_events(gateway) if e["queryStringParameters"].get("tag") == tag]
    assert len(found) == 1, found
    return found[0]


def test_the_authorizer_gets_awss_request_event(stub_gateway: Gateway) -> None:
    async def scenario() -> None:
        async with connect(f"{stub_gateway.ws_url}?tag=shape&token=t1", user_agent_header="ua/1"):
            pass

    run(scenario())
    event = authorizer_event(stub_gateway, "shape")
    connect_call = stub_gateway.calls(stub_gateway.connection_id("shape"), "$connect")[0]["event"]
    request = connect_call["requestContext"]
    assert event["type"] == "REQUEST"
    assert event["methodArn"] == (
        f"arn:aws:execute-api:us-east-1:123456789012:{request['apiId']}/dev/$connect"
    )
    assert event["queryStringParameters"] == {"tag": "shape", "token": "t1"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["shape"], "token": ["t1"]}
    assert event["stageVariables"] == {}
    assert event["headers"]["Upgrade"] == "websocket"
    assert event["headers"]["Sec-WebSocket-Key"] == connect_call["headers"]["Sec-WebSocket-Key"]
    assert event["multiValueHeaders"]["User-Agent"] == ["ua/1"]
    # One upgrade request: the same request id and connection id as its $connect.
    assert event["requestContext"]["requestId"] == request["requestId"]
    assert event["requestContext"]["connectionId"] == request["connectionId"]
    assert event["requestContext"]["routeKey"] == "$connect"


def test_the_context_reaches_every_route(stub_gateway: Gateway) -> None:
    async def scenario() -> None:
        async with connect(f"{stub_gateway.ws_url}?tag=ctx") as ws:
            await ws.send("hello")
            await ws.recv()
            await ws.send(json.dumps({"action": "whoami"}))
            await ws.recv()

    run(scenario())
    connection_id = stub_gateway.connection_id("ctx")
    stub_gateway.wait_for_route(connection_id, "$disconnect")
    calls = stub_gateway.calls(connection_id)
    assert [c["event"]["requestContext"]["routeKey"] for c in calls] == [
        "$connect",
        "$default",
        "whoami",
        "$disconnect",
    ]
    for call in calls:
        passed = dict(call["event"]["requestContext"]["authorizer"])
        latency = passed.pop("integrationLatency")
        assert isinstance(latency, int) and latency >= 0
        assert passed == {**CONTEXT, "principalId": "p-1"}


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        ("wildcard", 101),
        ("deny", 403),
        ("deny-wins", 403),
        ("elsewhere", 403),
        ("unauthorized", 401),
        ("raise", 500),
        ("malformed", 500),
        ("nested", 500),
    ],
)
def test_policies_refusals_and_failures(stub_gateway: Gateway, answer: str, status: int) -> None:
    tag = f"refused-{answer}"
    assert handshake_status(f"{stub_gateway.ws_url}?tag={tag}&as={answer}") == status
    request = authorizer_event(stub_gateway, tag)["requestContext"]
    if status == 101:
        assert stub_gateway.calls(request["connectionId"], "$connect")
        return
    assert stub_gateway.calls(request["connectionId"]) == []  # $connect never ran
    if status == 500:  # the log says what went wrong, with the request id to look for
        pattern = rf"(authorizer raised|malformed).*request={re.escape(request['requestId'])}"
        assert log_line(stub_gateway, pattern)


def log_line(gateway: Gateway, pattern: str, timeout: float = 10.0) -> str:
    """The first line of the gateway's log matching `pattern`, once there is one."""
    deadline = time.monotonic() + timeout
    while True:
        found = re.search(pattern, gateway.log())
        if found:
            return found.group(0)
        if time.monotonic() > deadline:
            raise AssertionError(f"no log line matches {pattern!r}:\n{gateway.log()[-3000:]}")
        time.sleep(0.05)


def test_no_authorizer_by_default(recording_gateway: Gateway) -> None:
    async def scenario() -> None:
        async with connect(f"{recording_gateway.ws_url}?tag=no-auth"):
            pass

    run(scenario())
    [call] = recording_gateway.calls(recording_gateway.connection_id("no-auth"), "$connect")
    assert "authorizer" not in call["event"]["requestContext"]


def test_an_authorizer_that_cannot_be_imported_stops_the_gateway() -> None:
    command = [sys.executable, "-m", "entrypoints.cli", "serve", "--port", "0"]
    done = subprocess.run(
        [*command, "--authorizer", "no_such_module:handler"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "cannot import 'no_such_module' for --authorizer" in done.stderr


def test_a_message_after_the_token_expired_is_refused_and_the_connection_closed(
    auth_gateway: Gateway, secret_file: Path
) -> None:
    secret = secret_file.read_text().strip()
    token = mint(secret, "alice", ["public:*"], 2, "switchboard", "switchboard")

    async def scenario() -> tuple[Any, Any, int | None]:
        async with connect(f"{auth_gateway.ws_url}?token={token}") as ws:
            await ws.send(json.dumps({"action": "join", "room": "public:x"}))
            joined = json.loads(await ws.recv())
            await asyncio.sleep(2.5)  # past the token's exp
            await ws.send(json.dumps({"action": "join", "room": "public:y"}))
            refused = json.loads(await ws.recv())
            await asyncio.wait_for(ws.wait_closed(), 10)  # closed by DELETE @connections
            return joined, refused, ws.close_code

    joined, refused, code = run(scenario())
    assert joined == {"type": "joined", "room": "public:x", "seq": 0}
    assert refused["type"] == "error" and refused["error"] == "token_expired"
    assert code == 1000  # what API Gateway reports after a DeleteConnection
