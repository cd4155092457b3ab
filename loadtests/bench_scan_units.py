"""The read units of a broadcast to everyone: 1,000 connections, each in 10 rooms.

Before (e46e441 and earlier), the broadcast's Scan read the whole table, memberships and all,
and filtered connection items out of it. Now it scans the sparse connections index, which holds
connection items alone. moto reports no consumed capacity for a Scan, so the read units are
computed with DynamoDB's documented rules from the items each Scan reads: an item's size is the
sum of its attribute names' and values' sizes, a Scan page (at most 1 MB read) costs its total
size rounded up to 4 KB, one read unit per 4 KB strongly consistent and half of one eventually
consistent (a Scan's default). The items are the real ones the store writes.

    .venv/bin/python loadtests/bench_scan_units.py [--connections 1000] [--rooms 10]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")

import boto3
from moto import mock_aws
from results import machine_line, publish

from adapters.dynamodb import items
from domain.model import Connection
from infra.tables import ensure_table

TABLE = "scan-units"
PAGE_LIMIT_BYTES = 1024 * 1024  # a Scan page reads at most 1 MB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--rooms", type=int, default=10)
    args = parser.parse_args()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        ensure_table(client, TABLE)
        _populate(client, args.connections, args.rooms)
        whole = _scan_sizes(client)
        index = _scan_sizes(client, IndexName=items.CONNECTIONS_INDEX)
    rows = [("the whole table (before)", whole), ("the connections index (now)", index)]
    lines = [
        machine_line(),
        "",
        f"{args.connections:,} connections, each in {args.rooms} rooms (the items the store "
        "writes); read units computed by DynamoDB's rules (4 KB a unit, eventually consistent "
        "halves it, pages of at most 1 MB), since moto reports none.",
        "",
        "| the broadcast's Scan reads | items | KB read | read units | cost per 1,000 broadcasts |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, sizes in rows:
        units = _read_units(sizes)
        cost = units * 1000 * 0.125 / 1e6
        lines.append(
            f"| {label} | {len(sizes):,} | {sum(sizes) / 1024:,.1f} | {units:,.1f} | ${cost:.4f} |"
        )
    ratio = _read_units(whole) / _read_units(index)
    lines += ["", f"The index reads {ratio:.0f}x fewer units for the same recipients."]
    publish("Read units of a broadcast to everyone", "\n".join(lines))


def _populate(client: Any, connections: int, rooms: int) -> None:
    now_ms = int(time.time() * 1000)
    puts: list[items.Item] = []
    for n in range(connections):
        connection = Connection.open(f"L0SM9cOFvH{n:05}=", now_ms, stored_at_ms=now_ms)
        names = frozenset(f"room-{r:02}" for r in range(rooms))
        connection = Connection(
            connection.connection_id, now_ms, connection.expires_at, names, None, now_ms
        )
        puts += [items.connection_item(connection), *items.membership_items(connection)]
    for start in range(0, len(puts), 25):
        requests = items.put_requests(puts[start : start + 25])
        client.batch_write_item(RequestItems={TABLE: requests})


def _scan_sizes(client: Any, **index: str) -> list[int]:
    pages = client.get_paginator("scan").paginate(TableName=TABLE, **index)
    return [_item_size(item) for page in pages for item in page["Items"]]


def _read_units(sizes: list[int]) -> float:
    units, page = 0.0, 0
    for size in sizes:
        if page + size > PAGE_LIMIT_BYTES:
            units += math.ceil(page / 4096) * 0.5
            page = 0
        page += size
    return units + math.ceil(page / 4096) * 0.5


def _item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: dict[str, Any]) -> int:
    """DynamoDB's item-size rules for the types the store writes."""
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":  # about one byte per two significant digits, plus one
        digits = len(Decimal(inner).normalize().as_tuple().digits)
        return math.ceil(digits / 2) + 1
    if kind == "SS":
        return sum(len(s.encode()) for s in inner)
    if kind == "BOOL":
        return 1
    if kind == "L":
        return 3 + sum(1 + _value_size(v) for v in inner)
    raise ValueError(f"no size rule for {kind}")


if __name__ == "__main__":
    main()
