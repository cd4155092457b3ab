"""`switchboard serve` in a subprocess, as a user runs it, for the browser tests."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

ROOT = Path(__file__).resolve().parents[2]
BANNER = re.compile(r"Switchboard local gateway: ws://127\.0\.0\.1:(\d+)/(\w+)")
START_TIMEOUT = 30.0
# The developer's own settings must not point a test elsewhere or change its limits.
UNSET = (
    "STORE",
    "DYNAMODB_ENDPOINT",
    "APIGW_ENDPOINT",
    "CONNECTIONS_TABLE",
    "HISTORY_SIZE",
    "HISTORY_TTL",
    "MESSAGE_RATE",
    "MESSAGE_BURST",
)


@dataclass
class Gateway:
    port: int
    stage: str

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/{self.stage}"

    @property
    def page_url(self) -> str:
        """The gateway's own /: the page derives its WebSocket URL from where it was loaded."""
        return f"http://127.0.0.1:{self.port}/"

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and body of GET PATH on the gateway's port."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as got:
                return got.status, dict(got.headers), got.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def delete_connection(self, connection_id: str) -> None:
        """DELETE /@connections/{id} with boto3's own (signing) client: the server closes it."""
        client: Any = boto3.client(
            "apigatewaymanagementapi",
            endpoint_url=f"http://127.0.0.1:{self.port}/{self.stage}",
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        client.delete_connection(ConnectionId=connection_id)


@contextmanager
def running_gateway(
    workdir: Path, *args: str, env: dict[str, str] | None = None
) -> Iterator[Gateway]:
    """`switchboard serve --port 0 ARGS` (with ENV added to the environment) as a user runs it,
    stopped with Ctrl-C at the end."""
    log_path = workdir / "serve.log"
    environ = {**os.environ, "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
    for name in UNSET:
        environ.pop(name, None)
    environ.update(env or {})
    command = [sys.executable, "-m", "entrypoints.cli", "serve", "--port", "0", *args]
    with log_path.open("wb") as log:  # a file, not a pipe: a full pipe would stall the server
        process = subprocess.Popen(command, cwd=ROOT, env=environ, stdout=log, stderr=log)
    try:
        yield _started(process, log_path)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _started(process: subprocess.Popen[bytes], log_path: Path) -> Gateway:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        found = BANNER.search(log_path.read_text(errors="replace"))
        if found:
            return Gateway(int(found.group(1)), found.group(2))
        if process.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError(f"switchboard serve did not start:\n{log_path.read_text(errors='replace')}")
