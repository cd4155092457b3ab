"""Sharded broadcasts over DynamoDB (moto): parts of everyone as Scan segments, a room's parts as
ranges of the room index, small pages."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from adapters.dynamodb import items
from adapters.dynamodb.audience import DynamoAudience
from adapters.dynamodb.budgets import DynamoBudgets
from adapters.dynamodb.logs import DynamoLogs
from adapters.dynamodb.progress import DynamoProgress
from adapters.dynamodb.store import DynamoStore
from domain.errors import StoreError
from domain.model import Audience, Connection, FanoutResult
from domain.ports import Storage
from domain.shards import Checkpoint, Dispatched, EveryonePart, RoomPart
from infra.tables import ensure_table
from tests.doubles import FakeClock, StorageParts
from tests.unit.sharding_rig import World
from tests.unit.sharding_scenarios import Scenario, check_partition, scenarios

TABLES = itertools.count()
NOW = 1_700_000_000.0


@pytest.fixture(autouse=True)
def _fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")  # never real credentials, even by mistake


@dataclass
class Table:
    client: Any
    name: str
    store: DynamoStore
    audience: DynamoAudience

    def storage(self) -> Storage:
        progress = DynamoProgress(self.client, self.name)
        return StorageParts(
            self.store,
            self.audience,
            progress,
            DynamoBudgets(self.client, self.name),
            DynamoLogs(self.client, self.name),
        )


def _table(page_limit: int | None) -> Table:
    client = boto3.client("dynamodb", region_name="us-east-1")
    name = f"shards-{next(TABLES)}"
    ensure_table(client, name)
    store = DynamoStore(client, name, page_limit)
    return Table(client, name, store, DynamoAudience(client, name, page_limit))


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(scenarios(max_connections=40), st.integers(1, 5))
def test_shards_over_dynamodb_reach_every_member_once_for_any_paging(
    scenario: Scenario, page_limit: int
) -> None:
    with mock_aws():
        check_partition(_table(page_limit).storage(), scenario)


@pytest.fixture
def table() -> Iterator[Table]:
    with mock_aws():
        yield _table(page_limit=2)


def test_a_part_resumes_after_a_connection_pruned_since(table: Table) -> None:
    for i in range(9):
        table.store.add(Connection.open(f"c{i}=", int(NOW * 1000)))
    part = list(table.audience.part_ids(EveryonePart(0, 1), NOW))
    table.store.remove(part[3])  # the cursor's item is gone: its position in the Scan is not
    assert list(table.audience.part_ids(EveryonePart(0, 1), NOW, part[3])) == part[4:]


def test_room_parts_are_bounded_at_both_ends_and_ascend(table: Table) -> None:
    for i in range(8):
        table.store.add(Connection.open(f"c{i}=", int(NOW * 1000)))
        table.store.join(f"c{i}=", "lobby", 100)
    reads = table.audience
    assert list(reads.part_ids(RoomPart("lobby", "c2=", "c5="), NOW)) == ["c3=", "c4=", "c5="]
    assert list(reads.part_ids(RoomPart("lobby", None, "c1="), NOW)) == ["c0=", "c1="]
    assert list(reads.part_ids(RoomPart("lobby", "c6="), NOW)) == ["c7="]
    assert list(reads.part_ids(RoomPart("lobby", "c2=", "c5="), NOW, "c3=")) == ["c4=", "c5="]
    # Read whole (one segment), the sample counts connections only, never memberships.
    assert DynamoAudience(table.client, table.name, segments=1).audience_estimate(NOW) == 8


def test_checkpoints_round_trip_and_stay_out_of_the_audience(table: Table) -> None:
    progress = DynamoProgress(table.client, table.name, now=lambda: NOW)
    assert progress.load("b1/0") is None
    checkpoint = Checkpoint("c7=", FanoutResult(10, 7, 2, 1, 4))
    progress.save("b1/0", checkpoint)
    assert progress.load("b1/0") == checkpoint
    progress.save("b1/0", Checkpoint(None, FanoutResult(), done=True))
    assert progress.load("b1/0") == Checkpoint(None, FanoutResult(), done=True)
    assert list(table.store.connection_ids(NOW)) == []
    assert list(table.audience.part_ids(EveryonePart(0, 1), NOW)) == []
    item = table.client.get_item(
        TableName=table.name, Key={"connectionId": {"S": "shard#b1/0"}, "sk": {"S": "#progress"}}
    )["Item"]
    assert item["expiresAt"] == {"N": str(int(NOW) + 86_400)}  # the table's TTL


def test_a_missing_table_is_a_store_error_that_says_what_failed() -> None:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        reads = DynamoAudience(client, "nowhere")
        with pytest.raises(StoreError, match="count the connections of table 'nowhere'"):
            reads.audience_estimate(NOW)
        with pytest.raises(StoreError, match="list part 0 of 2"):
            list(reads.part_ids(EveryonePart(0, 2), 0.0))
        with pytest.raises(StoreError, match="checkpoint of shard 'b/1'"):
            DynamoProgress(client, "nowhere").save("b/1", Checkpoint())


def test_shards_are_sized_from_a_sample_not_from_item_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DescribeTable's ItemCount lags by hours and reads 0 on a young table: with 20,000
    connections behind a 0, a broadcast to everyone still gets shards of about SHARD_SIZE."""
    connections = 20_000
    with mock_aws():
        table = _table(page_limit=None)

        def zero(parsed: dict[str, Any], **_: Any) -> None:
            parsed["Table"]["ItemCount"] = 0  # as AWS reports a table created hours ago or less

        table.client.meta.events.register("after-call.dynamodb.DescribeTable", zero)
        assert table.client.describe_table(TableName=table.name)["Table"]["ItemCount"] == 0
        now_ms = int(NOW * 1000)
        records = [items.connection_item(Connection.open(f"c{n:05}=", now_ms))
                   for n in range(connections)]  # fmt: skip
        for start in range(0, connections, 25):
            requests = items.put_requests(records[start : start + 25])
            table.client.batch_write_item(RequestItems={table.name: requests})
        world = World(storage=table.storage(), clock=FakeClock(NOW))
        result = world.planner(threshold=2000, shard_size=1000).send(b"x", Audience())
    assert isinstance(result, Dispatched)
    assert 17 <= result.shards <= 23  # 20 shards of 1,000, give or take a sample's error
