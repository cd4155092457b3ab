"""Sharded broadcasts over DynamoDB (moto): Scan segments and room-index ranges, small pages."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from adapters.dynamodb.progress import DynamoProgress
from adapters.dynamodb.schema import ensure_table
from adapters.dynamodb.shards import DynamoShardedStore
from domain.errors import StoreError
from domain.model import Connection, FanoutResult
from domain.shards import Checkpoint
from tests.unit.sharding_scenarios import Scenario, check_partition, scenarios

TABLES = itertools.count()


@pytest.fixture(autouse=True)
def _fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")  # never real credentials, even by mistake


def _store(page_limit: int | None) -> DynamoShardedStore:
    client = boto3.client("dynamodb", region_name="us-east-1")
    name = f"shards-{next(TABLES)}"
    ensure_table(client, name)
    return DynamoShardedStore(client, name, page_limit)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(scenarios(max_connections=40), st.integers(1, 5))
def test_shards_over_dynamodb_reach_every_member_once_for_any_paging(
    scenario: Scenario, page_limit: int
) -> None:
    with mock_aws():
        check_partition(_store(page_limit), scenario)


@pytest.fixture
def store() -> Iterator[DynamoShardedStore]:
    with mock_aws():
        yield _store(page_limit=2)


def test_a_segment_resumes_after_a_connection_pruned_since(store: DynamoShardedStore) -> None:
    now = 1_700_000_000.0
    for i in range(9):
        store.add(Connection.open(f"c{i}=", int(now * 1000)))
    segment = list(store.segment_ids(now, 0, 1))
    store.remove(segment[3])  # the cursor's item is gone: its position in the Scan is not
    assert list(store.segment_ids(now, 0, 1, after=segment[3])) == segment[4:]


def test_room_ranges_are_bounded_at_both_ends_and_ascend(store: DynamoShardedStore) -> None:
    now = 1_700_000_000.0
    for i in range(8):
        store.add(Connection.open(f"c{i}=", int(now * 1000)))
        store.join(f"c{i}=", "lobby")
    assert list(store.room_range_ids("lobby", now, "c2=", "c5=")) == ["c3=", "c4=", "c5="]
    assert list(store.room_range_ids("lobby", now, None, "c1=")) == ["c0=", "c1="]
    assert list(store.room_range_ids("lobby", now, "c6=")) == ["c7="]
    assert store.recipient_estimate() == 16  # connection items and memberships alike


def test_checkpoints_round_trip_and_stay_out_of_the_audience(store: DynamoShardedStore) -> None:
    progress = DynamoProgress(store._client, store._table, now=lambda: 1_700_000_000.0)
    assert progress.load("b1/0") is None
    checkpoint = Checkpoint("c7=", FanoutResult(10, 7, 2, 1, 4))
    progress.save("b1/0", checkpoint)
    assert progress.load("b1/0") == checkpoint
    progress.save("b1/0", Checkpoint(None, FanoutResult(), done=True))
    assert progress.load("b1/0") == Checkpoint(None, FanoutResult(), done=True)
    assert list(store.connection_ids(1_700_000_000.0)) == []
    assert list(store.segment_ids(1_700_000_000.0, 0, 1)) == []
    item = store._client.get_item(
        TableName=store._table, Key={"connectionId": {"S": "shard#b1/0"}, "sk": {"S": "#progress"}}
    )["Item"]
    assert item["expiresAt"] == {"N": str(1_700_000_000 + 86_400)}  # the table's TTL


def test_a_missing_table_is_a_store_error_that_says_what_failed() -> None:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        store = DynamoShardedStore(client, "nowhere")
        with pytest.raises(StoreError, match="describe table 'nowhere'"):
            store.recipient_estimate()
        with pytest.raises(StoreError, match="segment 0/2"):
            list(store.segment_ids(0.0, 0, 2))
        with pytest.raises(StoreError, match="checkpoint of shard 'b/1'"):
            DynamoProgress(client, "nowhere").save("b/1", Checkpoint())
