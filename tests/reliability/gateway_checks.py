"""What a test can learn from a running gateway: its log, its handler's log, its store."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3

from tests.e2e.gateway_process import Gateway

TABLE = "switchboard-connections"


def count_lines(gateway: Gateway, pattern: str) -> int:
    return len(re.findall(pattern, gateway.log()))


def wait_for_lines(gateway: Gateway, pattern: str, count: int, timeout: float = 60.0) -> int:
    """Wait until the gateway's log has `count` lines matching `pattern`."""
    deadline = time.monotonic() + timeout
    while True:
        found = count_lines(gateway, pattern)
        if found >= count:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{found} of {count} log lines match {pattern!r} after {timeout} s"
            )
        time.sleep(0.1)


def invocations(gateway: Gateway, **fields: Any) -> list[dict[str, Any]]:
    """The handler's own "invocation" log records (Powertools JSON lines) matching `fields`."""
    found = []
    for line in gateway.log_lines():
        if not line.startswith("{") or '"invocation"' not in line:
            continue
        record = json.loads(line)
        if record.get("message") == "invocation" and all(
            record.get(k) == v for k, v in fields.items()
        ):
            found.append(record)
    return found


def connected_ids(gateway: Gateway) -> list[str]:
    """Every connection the gateway accepted, from its `connect connection=` lines."""
    return re.findall(r" INFO connect connection=(\S+) ", gateway.log())


def connection_statuses(gateway: Gateway, ids: Iterable[str]) -> Counter[str]:
    """GET @connections/{id} for each id (signed, as boto3 does): id -> "live" or "gone"."""
    api = gateway.management()

    def status(connection_id: str) -> str:
        try:
            api.get_connection(ConnectionId=connection_id)
        except api.exceptions.GoneException:
            return "gone"
        return "live"

    with ThreadPoolExecutor(8) as pool:
        return Counter(pool.map(status, list(ids)))


def moto_endpoint(gateway: Gateway) -> str:
    found = re.search(r"embedded moto DynamoDB at (http://\S+)", gateway.log())
    assert found, "the gateway runs no embedded moto"
    return found.group(1)


def dynamodb(gateway: Gateway) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=moto_endpoint(gateway),
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def table_items(gateway: Gateway) -> list[dict[str, Any]]:
    """Every item of the connections table, every page of the Scan."""
    pages = dynamodb(gateway).get_paginator("scan").paginate(TableName=TABLE, ConsistentRead=True)
    return [item for page in pages for item in page.get("Items", [])]
