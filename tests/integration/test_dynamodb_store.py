"""DynamoStore under moto: every page read, rooms by Query, throttles and partial batch writes.

Long: DynamoDB's specifics (pages, throttles, partial batches) share one call recorder.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import boto3
import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.config import Config
from botocore.exceptions import BotoCoreError

from adapters.dynamodb.batch import BatchRetry
from adapters.dynamodb.budgets import DynamoBudgets
from adapters.dynamodb.store import DynamoStore
from domain.budget import MessageBudget
from domain.errors import StoreError
from domain.model import Connection, Identity
from infra.tables import create_table_kwargs, ensure_table
from tests.integration.moto_tables import moto_table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TABLE = "it-connections"
T0_MS = 1_700_000_000_000
NOW = T0_MS // 1000


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[DynamoDBClient]:
    # Standard retry mode, as the container builds it; 3 attempts keep back-off waits short.
    config = Config(retries={"mode": "standard", "total_max_attempts": 3})
    with moto_table(monkeypatch, TABLE, config) as dynamodb:
        yield dynamodb


class Calls:
    """Every DynamoDB operation a client is asked to make, with its parameters."""

    def __init__(self, client: DynamoDBClient) -> None:
        self.made: list[tuple[str, dict[str, Any]]] = []
        client.meta.events.register("before-parameter-build.dynamodb", self._record)

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.made.append((model.name, dict(params)))

    def names(self) -> list[str]:
        return [name for name, _ in self.made]


class _Body:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


def _error(url: str, code: str) -> AWSResponse:
    body = {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "injected"}
    headers = HTTPHeaders.from_dict({"Content-Type": "application/x-amz-json-1.0"})
    return AWSResponse(url, 400, headers, _Body(json.dumps(body).encode()))


def throttle(client: DynamoDBClient, read: str, code: str, times: int = 10**6) -> list[str]:
    """Answer the first `times` attempts of a read with `code`, through botocore's retries.

    moto still sees each request (every before-send handler runs): hence reads only.
    """
    attempts: list[str] = []

    def respond(request: Any, **_: Any) -> AWSResponse | None:
        attempts.append(read)
        return _error(request.url, code) if len(attempts) <= times else None

    # First, so that ours is the response botocore takes rather than moto's.
    client.meta.events.register_first(f"before-send.dynamodb.{read}", cast(Any, respond))
    return attempts


def refuse(client: DynamoDBClient, operation: str, code: str, times: int) -> None:
    """Refuse the first `times` calls of `operation` with `code`, before anything is sent."""
    calls: list[str] = []

    def respond(**_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        calls.append(operation)
        if len(calls) > times:
            return None
        error = {"Error": {"Code": code, "Message": "injected"}}
        return _error("", code), {**error, "ResponseMetadata": {"HTTPStatusCode": 400}}

    client.meta.events.register_first(f"before-call.dynamodb.{operation}", cast(Any, respond))


class Unprocessing:
    """A client whose first `times` BatchWriteItem calls apply half the requests, at most."""

    def __init__(self, client: DynamoDBClient, times: int) -> None:
        self._client = client
        self.times = times
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def batch_write_item(self, RequestItems: Mapping[str, list[Any]]) -> dict[str, Any]:
        self.calls += 1
        if self.calls > self.times:
            return dict(self._client.batch_write_item(RequestItems=RequestItems))
        [(table, requests)] = RequestItems.items()
        half = len(requests) // 2
        if half:
            self._client.batch_write_item(RequestItems={table: requests[:half]})
        return {"UnprocessedItems": {table: requests[half:]}}


def add_many(store: DynamoStore, count: int, room: str | None = None, agent: str = "") -> None:
    for n in range(count):
        identity = Identity(user_agent=agent) if agent else None
        store.add(Connection.open(f"c{n:04}=", T0_MS, identity))
        if room:
            store.join(f"c{n:04}=", room, 100)


def test_every_page_is_read_and_lazily(client: DynamoDBClient) -> None:
    store = DynamoStore(client, TABLE, page_limit=7)
    add_many(store, 50, room="lobby")
    store.add(Connection("expired=", T0_MS, NOW, frozenset({"lobby"})))
    calls = Calls(client)
    assert sorted(store.connection_ids(NOW)) == [f"c{n:04}=" for n in range(50)]
    assert sorted(store.room_member_ids("lobby", NOW)) == [f"c{n:04}=" for n in range(50)]
    assert calls.names().count("Scan") > 7 and calls.names().count("Query") > 7
    calls.made.clear()
    next(store.connection_ids(NOW))
    assert calls.names() == ["Scan"]  # one page at a time, on demand


def test_pages_end_at_one_megabyte_too(client: DynamoDBClient) -> None:
    store = DynamoStore(client, TABLE)
    add_many(store, 30, agent="x" * 100_000)  # 3 MB of connections
    calls = Calls(client)
    assert sorted(store.connection_ids(NOW)) == [f"c{n:04}=" for n in range(30)]
    assert calls.names().count("Scan") >= 3


def test_room_members_come_from_a_query_on_the_room_index(client: DynamoDBClient) -> None:
    store = DynamoStore(client, TABLE, page_limit=7)
    add_many(store, 20, room="lobby")
    calls = Calls(client)
    assert len(list(store.room_member_ids("lobby", NOW))) == 20
    assert "Scan" not in calls.names()
    assert {params.get("IndexName") for _, params in calls.made} == {"room-index"}


def test_a_presence_event_reads_a_big_room_no_further_than_it_needs(
    client: DynamoDBClient,
) -> None:
    """Whether a room is over PRESENCE_EVENTS_MAX is known from its first max + 1 members: a
    join to a room of 100,000 must not count them all, as `presence` (exact) does."""
    store = DynamoStore(client, TABLE, page_limit=7)
    add_many(store, 30, room="lobby")
    calls = Calls(client)
    count, members = store.room_members("lobby", NOW, 5, exact=False)
    assert (count, len(members)) == (5, 5)
    assert [params.get("Select") for _, params in calls.made] == [None]  # one page, no COUNT
    calls.made.clear()
    count, members = store.room_members("lobby", NOW, 5)
    assert (count, len(members)) == (30, 5)
    assert "COUNT" in [params.get("Select") for _, params in calls.made]


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "ThrottlingException"])
def test_throttled_calls_are_retried_by_botocore(client: DynamoDBClient, code: str) -> None:
    store = DynamoStore(client, TABLE, page_limit=7)
    add_many(store, 10)
    store.join("c0001=", "lobby", 100)
    scans = throttle(client, "Scan", code, times=1)
    queries = throttle(client, "Query", code, times=1)
    gets = throttle(client, "GetItem", code, times=2)
    assert len(list(store.connection_ids(NOW))) == 10
    assert list(store.room_member_ids("lobby", NOW)) == ["c0001="]
    assert store.get("c0001=") is not None
    assert (len(scans) > 2, len(queries), len(gets)) == (True, 2, 3)


def test_throttling_that_outlasts_the_retries_is_a_store_error(client: DynamoDBClient) -> None:
    store = DynamoStore(client, TABLE)
    add_many(store, 1, room="lobby")
    queries = throttle(client, "Query", "ProvisionedThroughputExceededException")
    with pytest.raises(StoreError, match="could not remove connection 'c0000='"):
        store.remove("c0000=")
    assert len(queries) == 3  # the client's max_attempts, then it gives up
    assert store.get("c0000=") is not None


def test_unprocessed_items_are_retried_with_backoff(client: DynamoDBClient) -> None:
    DynamoStore(client, TABLE).add(
        Connection("a=", T0_MS, NOW + 60, frozenset(f"r{n:02}" for n in range(60)))
    )
    slept: list[float] = []
    spy = Unprocessing(client, times=4)
    store = DynamoStore(cast("DynamoDBClient", spy), TABLE, page_limit=7, sleep=slept.append)
    assert store.remove("a=") is not None
    assert store.get("a=") is None
    assert all(list(store.room_member_ids(f"r{n:02}", NOW)) == [] for n in range(60))
    assert len(slept) == 4 and all(0 <= wait <= BatchRetry().max_delay for wait in slept)


def test_a_removal_left_undone_says_so_and_keeps_the_record(client: DynamoDBClient) -> None:
    store = DynamoStore(client, TABLE)
    store.add(Connection("a=", T0_MS, NOW + 60, frozenset({"lobby", "games"})))
    spy = Unprocessing(client, times=10**6)
    failing = DynamoStore(cast("DynamoDBClient", spy), TABLE, sleep=lambda _: None)
    with pytest.raises(StoreError) as raised:
        failing.remove("a=")
    assert "(its record is kept)" in str(raised.value)
    assert "still unprocessed after retries: delete room#" in str(raised.value)
    assert spy.calls == BatchRetry().max_attempts
    assert store.get("a=") is not None
    assert store.remove("a=") is not None  # a retry finishes the job
    assert list(store.room_member_ids("lobby", NOW)) == []


def test_an_add_left_undone_is_a_store_error(client: DynamoDBClient) -> None:
    spy = Unprocessing(client, times=10**6)
    store = DynamoStore(cast("DynamoDBClient", spy), TABLE, sleep=lambda _: None)
    with pytest.raises(StoreError, match="could not add connection 'a=': 1 of 1 writes"):
        store.add(Connection.open("a=", T0_MS))


def test_a_record_that_cannot_be_deleted_is_a_store_error(client: DynamoDBClient) -> None:
    store = DynamoStore(client, TABLE)
    store.add(Connection("a=", T0_MS, NOW + 60, frozenset({"lobby"})))
    refuse(client, "DeleteItem", "AccessDeniedException", times=1)
    with pytest.raises(StoreError, match="AccessDenied"):
        store.remove("a=")
    assert store.get("a=") is not None and list(store.room_member_ids("lobby", NOW)) == []
    assert store.remove("a=") is not None


def test_ensure_table_creates_the_template_table_once(client: DynamoDBClient) -> None:
    table = client.describe_table(TableName=TABLE)["Table"]
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["connectionId", "sk"]
    indexes = {index["IndexName"]: index for index in table["GlobalSecondaryIndexes"]}
    assert set(indexes) == {"room-index", "connections-index"}
    room, everyone = indexes["room-index"], indexes["connections-index"]
    assert room["Projection"]["NonKeyAttributes"] == ["expiresAt", "sub"]  # sub: for presence
    assert everyone["Projection"]["NonKeyAttributes"] == ["expiresAt"]
    ttl = client.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert (ttl.get("TimeToLiveStatus"), ttl.get("AttributeName")) == ("ENABLED", "expiresAt")
    assert ensure_table(client, TABLE) is False


def test_ensure_table_refuses_a_table_with_other_keys(client: DynamoDBClient) -> None:
    client.create_table(
        TableName="other",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    with pytest.raises(ValueError, match="'other' exists with key schema"):
        ensure_table(client, "other")


def test_the_schema_reader_tolerates_cloudformation_tags(tmp_path: Path) -> None:
    original = (Path(__file__).parents[2] / "infra" / "template.yaml").read_text()
    tagged = original.replace(
        "      BillingMode: PAY_PER_REQUEST",
        "      TableName: !Sub '${AWS::StackName}-connections'\n"
        "      Tags:\n        - Key: api\n          Value: !GetAtt Api.ApiId\n"
        "      BillingMode: PAY_PER_REQUEST",
    )
    tagged += "\n  Api:\n    Type: AWS::ApiGatewayV2::Api\n    Properties:\n      Name: !Ref X\n"
    (tmp_path / "template.yaml").write_text(tagged)
    kwargs = create_table_kwargs("t", tmp_path / "template.yaml")
    assert kwargs["TableName"] == "t" and "Tags" not in kwargs
    assert kwargs["GlobalSecondaryIndexes"][0]["IndexName"] == "room-index"
    # A schema that only CloudFormation could resolve is refused, saying where.
    (tmp_path / "template.yaml").write_text(
        tagged.replace("BillingMode: PAY_PER_REQUEST", "BillingMode: !If [Cheap, A, !Ref B]")
    )
    with pytest.raises(ValueError, match=r"Properties.BillingMode uses Fn::If"):
        create_table_kwargs("t", tmp_path / "template.yaml")


def test_every_botocore_error_is_a_store_error_saying_what_failed() -> None:
    """Not only ClientError: a connection that cannot be made (BotoCoreError) too."""
    config = Config(retries={"total_max_attempts": 1}, connect_timeout=1, read_timeout=1)
    nowhere = boto3.client(
        "dynamodb", region_name="us-east-1", endpoint_url="http://127.0.0.1:9", config=config,
        aws_access_key_id="x", aws_secret_access_key="x",
    )  # fmt: skip
    store = DynamoStore(nowhere, TABLE)
    calls: dict[str, Callable[[], object]] = {
        "add connection": lambda: store.add(Connection.open("a=", T0_MS)),
        "get connection": lambda: store.get("a="),
        "remove connection": lambda: store.remove("a="),
        "join": lambda: store.join("a=", "lobby", 5),
        "leave": lambda: store.leave("a=", "lobby"),
        "list connections": lambda: list(store.connection_ids(NOW)),
        "meter": lambda: DynamoBudgets(nowhere, TABLE).spend("a=", MessageBudget(), NOW),
    }
    for what, call in calls.items():
        with pytest.raises(StoreError, match="DynamoDB could not") as raised:
            call()
        assert isinstance(raised.value.__cause__, BotoCoreError), what
    assert store.prune(["a="], None, 5.0) == set()  # logged, and left for a later prune
