"""Pruning gone connections runs side by side and within the broadcast's deadline: over
DynamoDB (moto, with a round trip of real DynamoDB's order added to every call), a broadcast to
2,000 connections of which 1,000 are gone finishes inside the deadline and prunes all 1,000."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from adapters.clock import SystemClock
from adapters.dynamodb import items
from adapters.dynamodb.store import DynamoStore
from domain.fanout import Fanout, RetryPolicy
from domain.model import Connection
from tests.doubles import FakePublisher
from tests.integration.moto_tables import moto_table
from tests.reliability.report import Row, record

TABLE = "prune-deadline"
CONNECTIONS, GONE = 2000, 1000
# DynamoDB answers a GetItem or a small Query in single-digit milliseconds; moto in-process
# answers at once. This is what each call waits, to model the real one (sleeping, as I/O does).
ROUND_TRIP_SECONDS = 0.008


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with moto_table(monkeypatch, TABLE) as dynamodb:
        yield dynamodb


def test_a_broadcast_prunes_a_thousand_gone_connections_within_its_deadline(client: Any) -> None:
    long_ago_ms = int((time.time() - 600) * 1000)  # stored well before the establish grace
    connections = [
        Connection.open(f"c{n:05}=", long_ago_ms, stored_at_ms=long_ago_ms)
        for n in range(CONNECTIONS)
    ]
    # Some with memberships, which go too (the record's rooms name them).
    connections[:50] = [replace(c, rooms=frozenset({"lobby"})) for c in connections[:50]]
    _put_all(client, connections)
    calls = _with_round_trips(client)
    store = DynamoStore(client, TABLE)
    publisher = FakePublisher()
    gone = [c.connection_id for c in connections[:GONE]]
    publisher.mark_gone(*gone)
    # The production settings: batches of 1,000, a 10 s deadline, a 2 s establish grace.
    policy = RetryPolicy(deadline=10.0)
    fanout = Fanout(store, publisher, SystemClock(), policy, batch_size=1000, establish_grace=2.0)
    started = time.monotonic()
    result = fanout.send(b"hello", store.connection_ids(time.time()))
    took = time.monotonic() - started
    pages = client.get_paginator("scan").paginate(TableName=TABLE)
    left = {i["connectionId"]["S"] for page in pages for i in page["Items"]}
    assert (result.recipients, result.delivered, result.pruned, result.failed) == (
        CONNECTIONS,
        CONNECTIONS - GONE,
        GONE,
        0,
    )
    assert took < policy.deadline
    assert left.isdisjoint(gone)  # records, memberships and all
    record(
        Row(
            test="gone connections pruned under the deadline",
            load=f"a broadcast to {CONNECTIONS:,} connections, DynamoDB (moto, "
            f"+{ROUND_TRIP_SECONDS * 1000:.0f} ms a call as on AWS), batches of 1,000",
            faults=f"{GONE:,} connections gone (410), 50 of them with a membership",
            inputs="-",
            lost=f"0; all {GONE:,} pruned in {took:.1f} s of a 10 s deadline "
            f"({calls['count']:,} DynamoDB calls, 16 at a time)",
        )
    )


def _put_all(client: Any, connections: list[Connection]) -> None:
    for start in range(0, len(connections), 25):
        chunk = connections[start : start + 25]
        puts = [items.connection_item(c) for c in chunk]
        puts += [m for c in chunk for m in items.membership_items(c)]
        for start_put in range(0, len(puts), 25):
            requests = items.put_requests(puts[start_put : start_put + 25])
            client.batch_write_item(RequestItems={TABLE: requests})


def _with_round_trips(client: Any) -> dict[str, int]:
    calls = {"count": 0}

    def wait(**_: Any) -> None:
        calls["count"] += 1
        time.sleep(ROUND_TRIP_SECONDS)

    client.meta.events.register("before-call.dynamodb", wait)
    return calls
