"""A room's counter, history and id claims share the connections table, under moto, yet never
enter what a broadcast reads: not the connections index (everyone's Scan, and the sample that
sizes shards), not the room index (a room's members), not the table's own items as seen
through either index."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from adapters.dynamodb.audience import DynamoAudience
from adapters.dynamodb.logs import DynamoLogs
from adapters.dynamodb.store import DynamoStore
from domain.history import HistoryPolicy
from domain.model import Connection
from domain.shards import EveryonePart, RoomPart
from tests.integration.moto_tables import moto_table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TABLE = "history-items"
T0_MS = 1_700_000_000_000
NOW = T0_MS // 1000
KEEP = HistoryPolicy(size=100, ttl=600)


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[DynamoDBClient]:
    with moto_table(monkeypatch, TABLE) as dynamodb:
        yield dynamodb


def test_history_items_never_enter_a_broadcast_s_reads(client: DynamoDBClient) -> None:
    store, logs = DynamoStore(client, TABLE), DynamoLogs(client, TABLE)
    members = [f"c{n}=" for n in range(3)]
    for connection_id in members:
        store.add(Connection.open(connection_id, T0_MS))
        store.join(connection_id, "lobby", 100)
    for n in range(40):  # with ids, so claims are written too
        logs.append("lobby", "c0=", f"m{n}", lambda seq: b"{}", KEEP, NOW, deduplicate=True)
    assert logs.last_seq("lobby") == 40
    items = client.scan(TableName=TABLE)["Items"]
    assert len(items) > 80  # the counter, 40 messages, 40 claims are there

    assert sorted(store.connection_ids(NOW)) == members
    assert sorted(store.room_member_ids("lobby", NOW)) == members
    assert store.room_members("lobby", NOW, 100)[0] == 3
    audience = DynamoAudience(client, TABLE, segments=4)
    assert audience.audience_estimate(NOW) == 3
    everyone = [i for s in range(4) for i in audience.part_ids(EveryonePart(s, 4), NOW)]
    assert sorted(everyone) == members
    assert sorted(audience.part_ids(RoomPart("lobby", None, None), NOW)) == members
    for index in ("connections-index", "room-index"):
        seen = client.scan(TableName=TABLE, IndexName=index)["Items"]
        assert not [i for i in seen if i["connectionId"]["S"].startswith("room#")], index
