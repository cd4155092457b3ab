"""A connections table in moto (in-process), with test credentials that can never be real."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

from infra.tables import ensure_table


@contextmanager
def moto_table(
    monkeypatch: pytest.MonkeyPatch, table: str, config: Config | None = None
) -> Iterator[Any]:
    """A DynamoDB client of moto's, with `table` made as the template makes it."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1", config=config)
        ensure_table(client, table)
        yield client
