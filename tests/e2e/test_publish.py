"""Publishing from a backend against `switchboard serve --auth`: POST /publish signed by
entrypoints.publish_client (and by `switchboard publish`), heard by real WebSocket clients."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from websockets.asyncio.client import ClientConnection, connect

from adapters.tokens.jwt_tokens import mint
from entrypoints.publish_client import PublishError, publish
from tests.e2e.gateway_process import ROOT, Gateway, start_gateway

# serve's own keys: it verifies signatures made with them (any other key it cannot check).
KEYS = {"AWS_ACCESS_KEY_ID": "serve-key", "AWS_SECRET_ACCESS_KEY": "serve-secret"}
REGION = "us-east-1"
TIMEOUT = 10.0


@pytest.fixture(scope="module")
def secret_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """serve's local token secret (--auth): this module's own, never the user's."""
    return tmp_path_factory.mktemp("secret") / "local-auth-secret"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, secret_file: Path) -> Iterator[Gateway]:
    environment = {**KEYS, "AWS_REGION": REGION, "SWITCHBOARD_SECRET_FILE": str(secret_file)}
    running = start_gateway(
        tmp_path_factory.mktemp("publish"),
        "--auth",
        handler="entrypoints.aws_lambda:handler",
        environment=environment,
    )
    yield running
    assert running.stop() == 0, running.log()


@pytest.fixture(scope="module")
def ws_url(gateway: Gateway, secret_file: Path) -> Callable[[str], str]:
    """The WebSocket URL with a token for `sub` (rooms public:* and its own user:{sub})."""
    secret = secret_file.read_text().strip()  # made by serve --auth as it started

    def for_user(sub: str) -> str:
        token = mint(secret, sub, ["public:*", "user:{sub}"], 600, "switchboard", "switchboard")
        return f"{gateway.ws_url}?token={token}"

    return for_user


def url(gateway: Gateway) -> str:
    return f"http://127.0.0.1:{gateway.port}/publish"


def session(secret: str = KEYS["AWS_SECRET_ACCESS_KEY"]) -> boto3.Session:
    return boto3.Session(KEYS["AWS_ACCESS_KEY_ID"], secret, region_name=REGION)


async def next_message(ws: ClientConnection) -> dict[str, Any]:
    """The next envelope (type "message"), past presence events and acknowledgements."""
    async with asyncio.timeout(TIMEOUT):
        while True:
            frame = json.loads(await ws.recv())
            if frame.get("type") == "message":
                return dict(frame)


async def joined(ws: ClientConnection, room: str) -> None:
    await ws.send(json.dumps({"action": "join", "room": room}))
    async with asyncio.timeout(TIMEOUT):
        while json.loads(await ws.recv()).get("type") != "joined":
            pass


def run(coroutine: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, 30))


def test_a_member_gets_the_envelope_from_no_one_with_the_room_s_next_seq(
    gateway: Gateway, ws_url: Callable[[str], str]
) -> None:
    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        async with connect(ws_url("alice")) as ws:
            await joined(ws, "public:news")
            answers = []
            for n in (1, 2):
                call = (url(gateway), "public:news", {"headline": n}, f"n{n}")
                answers.append(await asyncio.to_thread(publish, *call, session=session()))
            return answers, [await next_message(ws), await next_message(ws)]

    answers, heard = run(scenario())
    assert [a["seq"] for a in answers] == [1, 2]
    assert answers[0] == {"room": "public:news", "seq": 1, "id": "n1", "recipients": 1,
                          "duplicate": False}  # fmt: skip
    assert heard == [
        {"type": "message", "room": "public:news", "seq": n, "id": f"n{n}", "from": None,
         "data": {"headline": n}}
        for n in (1, 2)
    ]  # fmt: skip


def test_without_a_room_everyone_hears_it(gateway: Gateway, ws_url: Callable[[str], str]) -> None:
    async def scenario() -> list[dict[str, Any]]:
        async with (
            connect(ws_url("carol")) as one,
            connect(ws_url("dave")) as two,
        ):
            await joined(one, "public:x")  # both connected before the publish
            await joined(two, "public:x")
            answer = await asyncio.to_thread(publish, url(gateway), None, "all", session=session())
            assert (answer["room"], answer["seq"]) == (None, None)
            return [await next_message(one), await next_message(two)]

    for heard in run(scenario()):
        assert (heard["room"], heard["seq"], heard["from"], heard["data"]) == (
            None,
            None,
            None,
            "all",
        )


def test_a_user_s_room_reaches_every_connection_of_that_user_only(
    gateway: Gateway, ws_url: Callable[[str], str]
) -> None:
    async def scenario() -> list[dict[str, Any]]:
        async with (
            connect(ws_url("alice")) as laptop,
            connect(ws_url("alice")) as phone,
            connect(ws_url("bob")) as bob,
        ):
            for ws in (laptop, phone, bob):
                await joined(ws, "public:sync")  # connected ($connect done) before the publish
            await asyncio.to_thread(publish, url(gateway), "user:alice", "dm", session=session())
            # Then one to everyone: bob's first message must be that one, not alice's.
            await asyncio.to_thread(publish, url(gateway), None, "all", session=session())
            return [await next_message(ws) for ws in (laptop, phone, bob)]

    laptop, phone, bob = run(scenario())
    assert (
        (laptop["room"], laptop["data"]) == (phone["room"], phone["data"]) == ("user:alice", "dm")
    )
    assert laptop["seq"] == phone["seq"]
    assert bob["data"] == "all"


def test_an_unsigned_call_is_refused_with_403(gateway: Gateway) -> None:
    request = urllib.request.Request(url(gateway), b'{"data": 1}', method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=TIMEOUT)
    assert refused.value.code == 403
    assert json.loads(refused.value.read()) == {"message": "Missing Authentication Token"}


def test_a_signature_made_with_the_wrong_secret_for_serve_s_key_is_refused(
    gateway: Gateway,
) -> None:
    with pytest.raises(PublishError) as refused:
        publish(url(gateway), "public:news", 1, session=session(secret="not-the-secret"))
    assert (refused.value.status, refused.value.code) == (403, "forbidden")
    assert "signature we calculated does not match" in refused.value.message


def cli(gateway: Gateway, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **KEYS, "AWS_DEFAULT_REGION": REGION}
    command = [sys.executable, "-m", "entrypoints.cli", "publish", "--url", url(gateway), *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_the_cli_prints_the_answer_or_exits_non_zero_with_the_refusal(gateway: Gateway) -> None:
    done = cli(gateway, "--room", "public:cli", "--data", '{"n": 1}', "--id", "c1")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"room": "public:cli", "seq": 1, "id": "c1",
                                       "recipients": 0, "duplicate": False}  # fmt: skip
    refused = cli(gateway, "--room", "not a room", "--data", "1")
    assert refused.returncode == 1
    assert refused.stdout == ""
    assert "400 invalid_room" in refused.stderr
