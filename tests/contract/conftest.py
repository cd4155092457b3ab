"""Every storage adapter behind the same fixtures: in memory, and DynamoDB under moto."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import boto3
import pytest
from moto import mock_aws

from adapters import memory
from adapters.dynamodb.audience import DynamoAudience
from adapters.dynamodb.budgets import DynamoBudgets
from adapters.dynamodb.logs import DynamoLogs
from adapters.dynamodb.progress import DynamoProgress
from adapters.dynamodb.store import DynamoStore
from domain.limits import MAX_CONNECTION_SECONDS
from domain.ports import AudienceReads, ConnectionStore, MessageBudgets, RoomLogs, Storage
from infra.tables import ensure_table
from tests.doubles import StorageParts, atomic_requests

T0_MS = 1_700_000_000_000
T0 = T0_MS // 1000
EXPIRES = T0 + MAX_CONNECTION_SECONDS


def _memory() -> Iterator[Storage]:
    yield memory.open_storage()


def _dynamodb() -> Iterator[Storage]:
    with mock_aws(), atomic_requests():
        client = boto3.client("dynamodb", region_name="us-east-1")
        table = "contract-connections"
        ensure_table(client, table)
        # A small page, so that every read in this suite crosses page boundaries too.
        yield StorageParts(
            connections=DynamoStore(client, table, page_limit=3),
            audience=DynamoAudience(client, table, page_limit=3),
            progress=DynamoProgress(client, table),
            budgets=DynamoBudgets(client, table),
            logs=DynamoLogs(client, table),
        )


@pytest.fixture(params=[_memory, _dynamodb], ids=["memory", "dynamodb"])
def storage(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Storage]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")  # never real credentials, even by mistake
    factory: Callable[[], Iterator[Storage]] = request.param
    yield from factory()


@pytest.fixture
def store(storage: Storage) -> ConnectionStore:
    return storage.connections


@pytest.fixture
def reads(storage: Storage) -> AudienceReads:
    return storage.audience


@pytest.fixture
def budgets(storage: Storage) -> MessageBudgets:
    return storage.budgets


@pytest.fixture
def logs(storage: Storage) -> RoomLogs:
    return storage.logs
