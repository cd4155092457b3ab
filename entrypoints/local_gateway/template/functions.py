"""The template's functions, each in processes of its own (sandbox.py), called from the
gateway's worker threads like any handler: `Sandboxes(function)(event, context)`.

Long: one sandbox's process, the pool of a function's sandboxes, and their environment.

A sandbox runs one invocation at a time, as Lambda's do; a function whose sandboxes are all
busy starts another (a cold start), up to `most`. A call past the function's Timeout ends its
sandbox (Lambda's "Task timed out") and raises, so API Gateway's answer is the integration's
failure. Each sandbox's environment is the function's alone: its Variables and what Lambda
sets, never serve's own.
"""

from __future__ import annotations

import json
import logging
import os
import selectors
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from entrypoints.local_gateway.template.app import Function
from entrypoints.local_gateway.template.sandbox import MARKER

log = logging.getLogger("local_gateway")
SANDBOX = Path(__file__).with_name("sandbox.py")
INIT_TIMEOUT_SECONDS = 10.0  # Lambda's init phase limit
# Passed on from serve's environment: where programs and the locale are, nothing else.
_INHERITED = ("PATH", "LANG", "LC_ALL", "TZ", "HOME", "TMPDIR")


class FunctionError(RuntimeError):
    """An invocation failed: the handler raised (the message is its errorMessage, as Lambda
    reports it: "Unauthorized" from an authorizer means 401), timed out, or its sandbox died."""

    def __init__(self, message: str, error_type: str = "Sandbox") -> None:
        super().__init__(message)
        self.error_type = error_type


class Sandbox:
    def __init__(self, function: Function, environment: Mapping[str, str]) -> None:
        self.function = function
        read, write = os.pipe()
        self._process = subprocess.Popen(
            [sys.executable, "-I", "-u", str(SANDBOX), function.handler, str(write)],
            cwd=function.code,
            env=dict(environment),
            stdin=subprocess.PIPE,
            pass_fds=(write,),
            text=True,
        )
        os.close(write)
        self._answers = read  # the pipe's end: the function's prints, then each answer
        self._pending = b""
        self.output: list[str] = []  # what the function printed, not yet shown
        first = self._answer(INIT_TIMEOUT_SECONDS, "init")
        if "init_error" in first:
            sys.stderr.write("".join(line + "\n" for line in self.drain()))
            self.close()
            error = first["init_error"]
            raise FunctionError(
                f"{function.logical_id}.Handler {function.handler!r}: "
                f"{error['errorType']}: {error['errorMessage']}"
            )

    def invoke(self, event: dict[str, Any], context: Any) -> Any:
        fields = {
            "aws_request_id": context.aws_request_id,
            "function_name": self.function.name,
            "function_version": "$LATEST",
            "invoked_function_arn": context.invoked_function_arn.rsplit(":", 1)[0]
            + f":{self.function.name}",
            "memory_limit_in_mb": str(self.function.memory),
            "log_group_name": f"/aws/lambda/{self.function.name}",
            "log_stream_name": context.log_stream_name,
            "deadline_ms": self.function.timeout * 1000,
        }
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps({"event": event, "context": fields}) + "\n")
        self._process.stdin.flush()
        answer = self._answer(self.function.timeout, context.aws_request_id)
        if "error" in answer:  # its traceback is on the console already, from the sandbox
            error = answer["error"]
            raise FunctionError(str(error["errorMessage"]), str(error["errorType"]))
        return answer["result"]

    def drain(self) -> list[str]:
        lines, self.output = self.output, []
        return lines

    def _answer(self, timeout: float, request: str) -> dict[str, Any]:
        """The answer line; the lines printed before it go to `output`."""
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            selector.register(self._answers, selectors.EVENT_READ)
            # Raw reads, split into lines here: a buffered reader would hold lines the pipe no
            # longer shows as readable, and the wait would outlast them.
            while b"\n" in self._pending or selector.select(max(0.0, deadline - time.monotonic())):
                if b"\n" not in self._pending:
                    chunk = os.read(self._answers, 65536)
                    if not chunk:
                        break  # the process ended
                    self._pending += chunk
                    continue
                raw, _, self._pending = self._pending.partition(b"\n")
                printed, marker, answer = raw.decode(errors="replace").partition(MARKER)
                if printed:
                    self.output.append(printed)
                if marker:
                    value: dict[str, Any] = json.loads(answer)
                    return value
        what = "timed out" if time.monotonic() >= deadline else "ended"
        self.close()
        raise FunctionError(
            f"{self.function.logical_id}: Task {what} after {timeout:.2f} seconds "
            f"(request {request})"
        )

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    def close(self) -> None:
        if self._process.stdin is not None and not self._process.stdin.closed:
            self._process.stdin.close()
        try:
            self._process.wait(2)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(5)
        if self._answers >= 0:
            os.close(self._answers)
            self._answers = -1


class Sandboxes:
    """A function's sandboxes: a handler the invoker calls from its worker threads."""

    def __init__(self, function: Function, environment: Mapping[str, str], most: int = 8):
        self.function = function
        self._environment = environment
        self._idle: list[Sandbox] = []
        self._all: list[Sandbox] = []
        self._lock = threading.Lock()
        self._slots = threading.Semaphore(most)

    def start(self) -> None:
        """One sandbox now: a handler that cannot be imported stops serve at start."""
        self._release(self._new())

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        with self._slots:
            sandbox = self._take()
            try:
                result = sandbox.invoke(event, context)
            finally:
                printed = sandbox.drain()
                if printed:  # through serve's stdout, on this thread: the invocation's lines
                    sys.stdout.write("\n".join(printed) + "\n")
                self._release(sandbox)
            return result

    def _take(self) -> Sandbox:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        started = time.perf_counter()
        sandbox = self._new()
        log.info(
            "%s: cold start in %.0f ms", self.function.logical_id,
            (time.perf_counter() - started) * 1000,
        )  # fmt: skip
        return sandbox

    def _new(self) -> Sandbox:
        sandbox = Sandbox(self.function, self._environment)
        with self._lock:
            self._all.append(sandbox)
        return sandbox

    def _release(self, sandbox: Sandbox) -> None:
        with self._lock:
            if sandbox.alive:
                self._idle.append(sandbox)
            else:
                self._all.remove(sandbox)

    def close(self) -> None:
        with self._lock:
            sandboxes, self._all, self._idle = self._all, [], []
        for sandbox in sandboxes:
            sandbox.close()


def function_environment(
    function: Function,
    region: str,
    local: Mapping[str, str],
    inherited: Mapping[str, str],
    hosts: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """What the function's process sees: serve's PATH and locale, what Lambda sets, the local
    endpoints and credentials (`local`), then the template's Variables, which win. `hosts` maps
    an AWS host in those (the API's own `{api}.execute-api.{region}.amazonaws.com`) to the
    local one, so an endpoint the template builds for the function reaches serve."""
    environment = {name: inherited[name] for name in _INHERITED if name in inherited}
    environment.update(
        AWS_REGION=region,
        AWS_DEFAULT_REGION=region,
        AWS_LAMBDA_FUNCTION_NAME=function.name,
        AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE=str(function.memory),
        AWS_LAMBDA_LOG_GROUP_NAME=f"/aws/lambda/{function.name}",
        LAMBDA_TASK_ROOT=str(function.code),
        _HANDLER=function.handler,
        PYTHONUNBUFFERED="1",
        **local,
    )
    for name, value in function.environment.items():
        for host, here in (hosts or {}).items():
            value = value.replace(host, here)
        environment[name] = value
    return environment
