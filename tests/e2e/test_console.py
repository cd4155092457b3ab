"""What `serve` prints of each invocation, as a user sees it: by default a readable line with
the handler's own lines indented under it; with --log-format json, CloudWatch's lines."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from websockets.sync.client import connect

from tests.e2e.gateway_process import Gateway, start_gateway

APP = "entrypoints.aws_lambda:handler"


def chat_once(gateway: Gateway) -> str:
    with connect(gateway.ws_url) as ws:
        ws.send(json.dumps({"action": "sendmessage", "data": "hi"}))
        ws.recv(timeout=20)
    deadline = time.monotonic() + 20
    while "sendmessage" not in gateway.log() or "$disconnect" not in gateway.log():
        assert time.monotonic() < deadline, gateway.log()
        time.sleep(0.05)
    return gateway.log()


def test_the_console_reads_like_a_local_tool_s(tmp_path: Path) -> None:
    gateway = start_gateway(tmp_path, "--log-format", "text", handler=APP)
    try:
        log = chat_once(gateway)
    finally:
        assert gateway.stop() == 0
    lines = log.splitlines()
    [head] = [
        n for n, line in enumerate(lines) if re.match(r"\d\d:\d\d:\d\d handler sendmessage ", line)
    ]
    assert re.search(r" 200 \d+\.\d ms$", lines[head])
    under = []
    for line in lines[head + 1 :]:
        if not line.startswith("    "):
            break
        under.append(line.strip())
    assert any(line.startswith("INFO invocation ") and "recipients=1" in line for line in under)
    assert any(line.startswith("metrics: ") and "Messages=" in line for line in under)
    assert not [line for line in lines if line.startswith("{")]  # no raw JSON, no EMF blob


def test_json_gives_cloudwatch_s_lines(tmp_path: Path) -> None:
    gateway = start_gateway(tmp_path, "--log-format", "json", handler=APP)
    try:
        log = chat_once(gateway)
    finally:
        assert gateway.stop() == 0
    starts = re.findall(r"^START RequestId: (\S+) Version: \$LATEST$", log, re.M)
    ends = re.findall(r"^END RequestId: (\S+)$", log, re.M)
    reports = re.findall(
        r"^REPORT RequestId: (\S+)\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms", log, re.M
    )
    assert starts and starts == ends == reports  # $connect, sendmessage, $disconnect
    assert re.search(r'^\{"level":"INFO".*"message":"invocation"', log, re.M)
