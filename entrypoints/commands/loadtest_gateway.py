"""The local gateway a load test runs against: `switchboard serve` in its own process."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
URL_LINE = re.compile(rb"Switchboard local gateway: (ws://127\.0\.0\.1:\d+/\S+)")


class GatewayError(Exception):
    """The local gateway did not start, or stopped before the test was over."""


@contextmanager
def local_gateway(log_path: Path) -> Iterator[str]:
    """Start `switchboard serve --port 0` (the OS picks a free port); yield its ws:// URL."""
    with log_path.open("wb") as log:
        command = [sys.executable, "-m", "entrypoints.cli", "serve", "--host", "127.0.0.1"]
        process = subprocess.Popen(
            [*command, "--port", "0"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            url = _wait_for_url(process, log_path)
            _wait_until_answers(url)
            yield url
            if process.poll() is not None:
                raise GatewayError(f"the local gateway exited early (code {process.returncode})")
        finally:
            _stop(process)


def _wait_for_url(process: subprocess.Popen[bytes], log_path: Path) -> str:
    # The gateway prints its URL once it listens; port 0 means it alone knows the port.
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        match = URL_LINE.search(log_path.read_bytes()[:65536])
        if match:
            return match.group(1).decode()
        if process.poll() is not None:
            raise GatewayError(f"switchboard serve exited with code {process.returncode}")
        time.sleep(0.1)
    raise GatewayError(f"switchboard serve printed no URL within {START_TIMEOUT_S:.0f}s")


def _wait_until_answers(url: str) -> None:
    parts = urlsplit(url)
    address = (parts.hostname or "127.0.0.1", parts.port or 80)
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            with socket.create_connection(address, timeout=1.0):
                return
        except OSError as exc:
            if time.monotonic() > deadline:
                raise GatewayError(f"the local gateway at {url} does not answer: {exc}") from exc
            time.sleep(0.1)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)  # the gateway shuts down cleanly on SIGINT
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)
