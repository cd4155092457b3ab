"""`switchboard serve` run as a user runs it (a subprocess on a free port), seen from tests."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

ROOT = Path(__file__).resolve().parents[2]
RECORDING_HANDLER = "tests.e2e.recording_handler:handler"
BANNER = re.compile(r"Switchboard local gateway: ws://127\.0\.0\.1:(\d+)/(\w+)")
START_TIMEOUT = 30.0


@dataclass
class Gateway:
    """A running `switchboard serve`, its log and (with the recording handler) its events."""

    process: subprocess.Popen[bytes]
    port: int
    stage: str
    log_file: Path
    recording: Path

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/{self.stage}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{self.stage}"

    def management(self) -> Any:
        """boto3's own @connections client, pointed at the gateway (it signs every call)."""
        return boto3.client(
            "apigatewaymanagementapi",
            endpoint_url=self.http_url,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def events(self) -> list[dict[str, Any]]:
        if not self.recording.exists():
            return []
        lines = self.recording.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line]

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], count: int = 1, timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        """The recorded calls matching `predicate`, once there are at least `count` of them."""
        deadline = time.monotonic() + timeout
        while True:
            found = [record for record in self.events() if predicate(record)]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(found)} of {count} expected calls after {timeout} s")
            time.sleep(0.02)

    def wait_for_route(
        self, connection_id: str, route: str, count: int = 1
    ) -> list[dict[str, Any]]:
        """The calls on `route` for one connection, once there are `count` of them."""
        return self.wait_for(
            lambda r: (
                r["event"]["requestContext"]["connectionId"] == connection_id
                and r["event"]["requestContext"]["routeKey"] == route
            ),
            count,
        )

    def connection_id(self, tag: str) -> str:
        """The id of the connection that connected with `?tag=...`."""
        [record] = self.wait_for(lambda r: _query(r).get("tag") == tag)
        return str(record["event"]["requestContext"]["connectionId"])

    def calls(self, connection_id: str, route: str | None = None) -> list[dict[str, Any]]:
        return [
            r
            for r in self.events()
            if r["event"]["requestContext"]["connectionId"] == connection_id
            and (route is None or r["event"]["requestContext"]["routeKey"] == route)
        ]

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        return self.process.returncode

    def log(self) -> str:
        return self.log_file.read_text(encoding="utf-8", errors="replace")

    def log_lines(self) -> list[str]:
        """The log's whole lines: the last one may be half written while the server writes it."""
        text = self.log()
        lines = text.splitlines()
        return lines if text.endswith("\n") else lines[:-1]


def _query(record: dict[str, Any]) -> dict[str, str]:
    return record["event"].get("queryStringParameters") or {}


def start_gateway(
    workdir: Path,
    *args: str,
    handler: str | None = RECORDING_HANDLER,
    environment: dict[str, str] | None = None,
) -> Gateway:
    """Start `switchboard serve --port 0` and wait for the line that names its port;
    `environment` adds to (or overrides) the test's own; no `handler` for --template."""
    workdir.mkdir(parents=True, exist_ok=True)
    log_file, recording = workdir / "serve.log", workdir / "calls.jsonl"
    env = {**os.environ, "RECORDING_FILE": str(recording), "PYTHONUNBUFFERED": "1"}
    env.update(environment or {})
    for name in ("STORE", "DYNAMODB_ENDPOINT", "APIGW_ENDPOINT", "CONNECTIONS_TABLE"):
        env.pop(name, None)
    command = [sys.executable, "-m", "entrypoints.cli", "serve", "--port", "0"]
    if "--log-format" not in args:  # the handlers' lines as written (JSON), for the tests to read
        command += ["--log-format", "json"]
    with open(log_file, "wb") as out:  # a file, not a pipe: a full pipe would stall the server
        process = subprocess.Popen(
            [*command, *(["--handler", handler] if handler else []), *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=out,
        )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        match = BANNER.search(log_file.read_text(encoding="utf-8", errors="replace"))
        if match:
            return Gateway(process, int(match[1]), match[2], log_file, recording)
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    process.wait(timeout=5)
    raise RuntimeError(f"switchboard serve did not start:\n{log_file.read_text()}")
