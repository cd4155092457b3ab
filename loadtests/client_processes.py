"""The benchmark's side of loadtests/broadcast_clients.py: spawn client processes, ask, gather."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from contenders import PYTHON, ROOT

WORKER = str(ROOT / "loadtests" / "broadcast_clients.py")


class ClientsError(RuntimeError):
    """A client process died, or did not answer in time."""


@dataclass
class Connected:
    ok: int
    errors: int
    seconds: float  # the slowest process's, from its first handshake to its last
    error_samples: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds > 0 else 0.0


@dataclass
class Arrivals:
    expected: int
    latencies_ms: list[float]
    client_cpu_ms: float  # the busiest client process's CPU while it waited

    @property
    def missing(self) -> int:
        return self.expected - len(self.latencies_ms)


class ClientProcesses:
    """`total` clients split over `processes` processes, `in_flight` handshakes at once overall."""

    def __init__(self, url: str, total: int, processes: int, in_flight: int) -> None:
        shares = [total // processes + (i < total % processes) for i in range(processes)]
        per_process = max(1, in_flight // processes)
        self._workers = [
            subprocess.Popen(
                [PYTHON, WORKER, "--url", url, "--count", str(n), "--in-flight", str(per_process)],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for n in shares
        ]
        self._answers = [self._pump(worker) for worker in self._workers]
        try:
            self._gather("ready", timeout=30.0)
        except BaseException:
            self.close()
            raise

    @property
    def pids(self) -> list[int]:
        return [worker.pid for worker in self._workers]

    def connect(self, timeout: float) -> Connected:
        answers = self._ask({"cmd": "connect"}, "connected", timeout)
        samples = sorted({s for a in answers for s in a["error_samples"]})
        return Connected(
            ok=sum(a["ok"] for a in answers),
            errors=sum(a["errors"] for a in answers),
            seconds=max(a["seconds"] for a in answers),
            error_samples=samples[:5],
        )

    def collect(self, tag: str, timeout: float) -> Arrivals:
        # Each process gives up at `timeout`; the extra seconds are for its answer to arrive.
        command = {"cmd": "collect", "tag": tag, "timeout": timeout}
        answers = self._ask(command, "collected", timeout + 30.0)
        return Arrivals(
            expected=sum(a["expected"] for a in answers),
            latencies_ms=[x for a in answers for x in a["latencies_ms"]],
            client_cpu_ms=max(a["cpu_ms"] for a in answers),
        )

    def _ask(self, command: dict[str, Any], event: str, timeout: float) -> list[dict[str, Any]]:
        line = json.dumps(command) + "\n"
        for worker in self._workers:
            assert worker.stdin is not None
            worker.stdin.write(line)
            worker.stdin.flush()
        return self._gather(event, timeout)

    def _gather(self, event: str, timeout: float) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        answers = []
        for worker, answers_of in zip(self._workers, self._answers, strict=True):
            try:
                answer = answers_of.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise ClientsError(f"client process {worker.pid}: no {event!r} in time") from None
            if answer.get("event") != event:
                raise ClientsError(f"client process {worker.pid}: {answer} instead of {event!r}")
            answers.append(answer)
        return answers

    @staticmethod
    def _pump(worker: subprocess.Popen[str]) -> queue.Queue[dict[str, Any]]:
        answers: queue.Queue[dict[str, Any]] = queue.Queue()
        stdout = worker.stdout
        assert stdout is not None

        def pump() -> None:  # a thread per process, so every wait above can time out
            for line in stdout:
                answers.put(json.loads(line))
            answers.put({"event": "exited", "code": worker.wait()})

        threading.Thread(target=pump, daemon=True).start()
        return answers

    def close(self) -> None:
        for worker in self._workers:
            try:
                assert worker.stdin is not None
                worker.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
                worker.stdin.close()
            except (BrokenPipeError, OSError):
                pass  # already gone
        for worker in self._workers:
            try:
                worker.wait(timeout=30.0)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=30.0)

    def __enter__(self) -> ClientProcesses:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
