"""The handler under overlapping invocations, as `switchboard serve` runs it on worker threads.

Lambda runs one invocation at a time per sandbox; the local gateway does not. Powertools'
process-wide logger keys and Metrics set raced there: a `$connect` failed with 500 when one
thread's metrics flush emptied another's set, and log lines carried another invocation's
request id. Each invocation must log its own context and flush exactly its own metrics.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from entrypoints import aws_lambda
from entrypoints.composition.container import build
from tests.support import LambdaContext, load_event

THREADS = 8
CALLS = 400


@pytest.fixture
def log_buffer() -> Iterator[io.StringIO]:
    # Powertools' handler keeps the stdout it saw at import: point it at a buffer of ours.
    buffer = io.StringIO()
    handler = aws_lambda.logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(buffer)
    level = aws_lambda.logger.log_level
    aws_lambda.logger.setLevel("DEBUG")  # a $disconnect that went well logs at DEBUG
    aws_lambda.reset_container(build({"STORE": "memory", "AWS_REGION": "eu-west-1"}))
    try:
        yield buffer
    finally:
        aws_lambda.reset_container(None)
        aws_lambda.logger.setLevel(level)
        if previous is not None:
            handler.setStream(previous)


def test_overlapping_invocations_keep_their_own_context_and_metrics(
    log_buffer: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    start = threading.Barrier(THREADS)

    def disconnect(n: int) -> tuple[str, int]:
        if n < THREADS:
            start.wait()  # the first calls begin together
        connection_id = f"C{n:014d}="
        context = dataclasses.replace(LambdaContext(), aws_request_id=f"request-{n}")
        event = load_event("disconnect", connectionId=connection_id)
        return connection_id, aws_lambda.handler(event, context)["statusCode"]

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(disconnect, range(CALLS)))

    assert [status for _, status in results] == [200] * CALLS
    lines = [json.loads(line) for line in log_buffer.getvalue().splitlines()]
    invocations = {line["connection_id"]: line for line in lines if line["message"] == "invocation"}
    assert len(invocations) == CALLS
    # Each line names the request of the invocation that wrote it, no other.
    mixed = [
        (cid, line["function_request_id"])
        for cid, line in invocations.items()
        if line["function_request_id"] != f"request-{int(cid[1:15])}"
    ]
    assert mixed == []
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    # One EMF record per invocation, each with its own single count: none lost, none merged.
    assert [record.get("Disconnects") for record in emf] == [[1.0]] * CALLS
