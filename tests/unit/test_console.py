"""serve's console: one readable line per invocation with its handler's lines under it (text),
or the lines as CloudWatch Logs receives them (json); each thread's lines gathered apart."""

from __future__ import annotations

import io
import json
import re
import sys
import threading
from types import SimpleNamespace
from typing import Any

import pytest

from entrypoints.local_gateway.lambda_runtime.console import Invoked, Shown, readable, render
from entrypoints.local_gateway.lambda_runtime.output import WholeLines

POWERTOOLS = json.dumps({
    "level": "INFO", "location": "handler:56", "message": "invocation",
    "timestamp": "2026-12-03 07:29:58,086+0000", "service": "switchboard", "cold_start": False,
    "route": "sendmessage", "status": 200, "recipients": 3,
})  # fmt: skip
EMF = json.dumps({
    "_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "Switchboard",
             "Dimensions": [["service"]], "Metrics": [{"Name": "Messages", "Unit": "Count"},
             {"Name": "PostsDelivered", "Unit": "Count"}]}]},
    "service": "switchboard", "Messages": [1.0], "PostsDelivered": [3.0],
})  # fmt: skip
CALL = Invoked("handler", "sendmessage", "abc=", 200, 12.34, "req-1", "256",
               [POWERTOOLS, EMF, "a plain print"])  # fmt: skip


def test_text_is_one_line_per_invocation_with_the_handler_s_lines_under_it() -> None:
    head, *body = render(CALL, "text").splitlines()
    assert re.fullmatch(r"\d\d:\d\d:\d\d handler sendmessage abc= 200 12\.3 ms", head)
    assert body == [
        "    INFO invocation route=sendmessage status=200 recipients=3",
        "    metrics: Messages=1.0, PostsDelivered=3.0",
        "    a plain print",
    ]


def test_json_is_what_cloudwatch_receives() -> None:
    assert render(CALL, "json").splitlines() == [
        "START RequestId: req-1 Version: $LATEST",
        POWERTOOLS,
        EMF,
        "a plain print",
        "END RequestId: req-1",
        "REPORT RequestId: req-1\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 256 MB",
    ]


def test_lines_that_are_not_records_stay_as_they_are() -> None:
    for line in ("{not json", "[1, 2]", '{"no": "level"}', "Found stale connection"):
        assert readable(line) == line


def test_each_thread_s_lines_are_gathered_apart() -> None:
    stream = io.StringIO()
    out = WholeLines(stream)
    gathered: list[str] = []

    def invocation() -> None:
        with out.capturing() as lines:
            out.write("mine 1\nmine")
            out.write(" 2\nunfinished")
        gathered.extend(lines)

    thread = threading.Thread(target=invocation)
    thread.start()
    thread.join()
    out.write("another thread's line\n")
    assert gathered == ["mine 1", "mine 2", "unfinished"]
    assert stream.getvalue() == "another thread's line\n"


def test_a_queue_s_consumer_is_shown_like_the_gateway_s_calls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stdout", WholeLines(stream))

    def worker(event: dict[str, Any], context: Any) -> dict[str, Any]:
        print(EMF)
        return {"batchItemFailures": []}

    context = SimpleNamespace(aws_request_id="req-9", memory_limit_in_mb=512)
    result = Shown(worker, "worker", "sqs", "text")({"Records": []}, context)
    assert result == {"batchItemFailures": []}
    head, body = stream.getvalue().splitlines()
    assert re.fullmatch(r"\d\d:\d\d:\d\d worker sqs - 200 \d+\.\d ms", head)
    assert body == "    metrics: Messages=1.0, PostsDelivered=3.0"
