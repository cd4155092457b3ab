"""DynamoDB tables as a template declares them, created locally (serve, tests): ensure_table."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from infra.cfn_yaml import TEMPLATE, load_template

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

log = logging.getLogger(__name__)

RESOURCE = "ConnectionsTable"
# The CloudFormation properties CreateTable accepts as they are; the others (SSESpecification,
# PointInTimeRecovery...) differ in shape or are not CreateTable's business.
_TABLE_KEYS = ("AttributeDefinitions", "KeySchema", "BillingMode", "ProvisionedThroughput")
_INDEX_KEYS = ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput")


def table_properties(template: Path = TEMPLATE) -> dict[str, Any]:
    """The Properties of the template's ConnectionsTable resource."""
    document = load_template(template)
    try:
        properties: dict[str, Any] = document["Resources"][RESOURCE]["Properties"]
    except (KeyError, TypeError) as error:
        raise ValueError(f"{template} has no Resources.{RESOURCE}.Properties") from error
    return properties


def create_table_kwargs(table_name: str, template: Path = TEMPLATE) -> dict[str, Any]:
    """CreateTable's arguments for a table with the template's keys and indexes."""
    properties = table_properties(template)
    kwargs: dict[str, Any] = {"TableName": table_name}
    kwargs.update({key: properties[key] for key in _TABLE_KEYS if key in properties})
    indexes = properties.get("GlobalSecondaryIndexes")
    if indexes:
        kwargs["GlobalSecondaryIndexes"] = [
            {key: index[key] for key in _INDEX_KEYS if key in index} for index in indexes
        ]
    for key, value in kwargs.items():
        _require_literal(f"{RESOURCE}.Properties.{key}", value)
    return kwargs


def _require_literal(where: str, value: Any) -> None:
    # Intrinsics (!Ref, !If...) need CloudFormation to resolve them; a local table cannot.
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" or key.startswith("Fn::"):
                raise ValueError(f"{where} uses {key}: the table schema must be literal values")
            _require_literal(f"{where}.{key}", inner)
    elif isinstance(value, list):
        for n, inner in enumerate(value):
            _require_literal(f"{where}[{n}]", inner)


def ttl_attribute(template: Path = TEMPLATE) -> str | None:
    """The template's TTL attribute, when it enables one."""
    spec = table_properties(template).get("TimeToLiveSpecification") or {}
    return spec.get("AttributeName") if spec.get("Enabled") else None


def ensure_table(client: DynamoDBClient, table_name: str, template: Path = TEMPLATE) -> bool:
    """Create the table when it is missing, wait until ACTIVE, enable TTL; True when created.

    An existing table whose key schema differs from the template's is an error: the store
    would read and write the wrong keys.
    """
    kwargs = create_table_kwargs(table_name, template)
    created = False
    try:
        table = client.describe_table(TableName=table_name)["Table"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
        log.info("creating DynamoDB table %s", table_name)
        client.create_table(**kwargs)
        created = True
    else:
        if table.get("KeySchema") != kwargs["KeySchema"]:
            raise ValueError(
                f"table {table_name!r} exists with key schema {table.get('KeySchema')}, "
                f"but {template.name} declares {kwargs['KeySchema']}"
            )
    client.get_waiter("table_exists").wait(
        TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    attribute = ttl_attribute(template)
    if attribute is not None:
        _enable_ttl(client, table_name, attribute)
    return created


def _enable_ttl(client: DynamoDBClient, table_name: str, attribute: str) -> None:
    # UpdateTimeToLive fails when TTL is already on, so look before asking.
    current = client.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
    if current.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
        if current.get("AttributeName") != attribute:
            log.warning(
                "table %s has TTL on %s, the template says %s",
                table_name,
                current.get("AttributeName"),
                attribute,
            )
        return
    client.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"AttributeName": attribute, "Enabled": True},
    )
