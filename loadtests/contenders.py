"""The servers the benchmarks measure, each in its own process: `serve` and the floor."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from machine_load import process_cpu_seconds

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Contender:
    """What to start: the floor server, or `serve` with a publisher chosen by PUBLISHER.

    `inprocess`: serve delivers the handler's posts to its own sockets without HTTP (its
    default); off (`--no-inprocess`), the handler's publisher posts over loopback HTTP, signed,
    as on AWS.
    """

    name: str
    publisher: str | None = None  # None: the floor
    inprocess: bool = False
    args: tuple[str, ...] = ()  # more `serve` options
    env: tuple[tuple[str, str], ...] = ()  # more environment for `serve`
    root: Path = ROOT  # the source tree to run (another checkout: a baseline, side by side)

    def command(self) -> list[str]:
        if self.publisher is None:
            return [PYTHON, str(ROOT / "loadtests" / "floor_server.py"), "--port", "0"]
        serve = ["-m", "entrypoints.cli", "serve", "--port", "0", "--log-format", "json"]
        if "--store" not in self.args:
            serve += ["--store", "memory"]
        flags = [] if self.inprocess else ["--no-inprocess"]
        return [PYTHON, *serve, "--no-page", *flags, *self.args]

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        # Fake credentials, always: nothing here may sign with real ones.
        env.update(AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local")
        env.pop("AWS_SESSION_TOKEN", None)
        env.pop("AWS_PROFILE", None)
        if self.publisher is not None:
            env["PUBLISHER"] = self.publisher  # `serve` leaves it alone; the container reads it
        env.update(self.env)
        return env


FLOOR = Contender("floor (websockets, no Lambda)")
SERVE_INPROCESS = Contender("serve (in-process, the default)", "lean", inprocess=True)
SERVE_LEAN = Contender("serve --no-inprocess, PUBLISHER=lean", "lean")
SERVE_BOTO3 = Contender("serve --no-inprocess, PUBLISHER=boto3", "boto3")
CONTENDERS = {
    "floor": FLOOR,
    "inprocess": SERVE_INPROCESS,
    "lean": SERVE_LEAN,
    "boto3": SERVE_BOTO3,
}


@dataclass(frozen=True)
class Server:
    """A running contender: its WebSocket URL and its process, for CPU and memory readings."""

    url: str
    pid: int
    log: Path  # stderr: the gateway's lines
    output: Path  # stdout: the handlers' JSON log lines

    def output_lines(self) -> list[str]:
        return self.output.read_text(errors="replace").splitlines()

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the whole process (every thread)."""
        return process_cpu_seconds(self.pid)

    def rss_kib(self) -> int:
        """VmRSS: the resident set, in KiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError(f"no VmRSS in /proc/{self.pid}/status")


@contextmanager
def running(contender: Contender) -> Iterator[Server]:
    """Start the contender on a free loopback port; stop it (SIGTERM, then SIGKILL) after.
    Its output goes to files, not pipes: `serve` logs every call, and nobody reads a pipe."""
    with (
        tempfile.NamedTemporaryFile("w+", prefix="bench-server-", suffix=".log") as log,
        tempfile.NamedTemporaryFile("w+", prefix="bench-server-", suffix=".out") as output,
    ):
        environment = contender.environment()
        if contender.root != ROOT:  # the other checkout's modules first, its folder the cwd
            environment["PYTHONPATH"] = str(contender.root)
        process = subprocess.Popen(
            contender.command(),
            cwd=contender.root,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=log,
            text=True,
        )
        try:
            url = _wait_for_url(process, Path(output.name), Path(log.name))
            yield Server(url, process.pid, Path(log.name), Path(output.name))
        finally:
            _stop(process)


def _wait_for_url(process: subprocess.Popen[str], output: Path, log: Path) -> str:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        for word in output.read_text(errors="replace").split():
            if word.startswith("ws://127.0.0.1:"):
                return word
        time.sleep(0.1)
    tail = log.read_text()[-2000:]
    raise RuntimeError(f"the server printed no ws:// URL (exit {process.poll()}): {tail}")


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            print(f"pid {process.pid} ignored SIGTERM; killing it", file=sys.stderr)
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)
