"""The template's DynamoDB tables, made in the local DynamoDB as CloudFormation would make
them: keys, attribute definitions, indexes, billing mode and TTL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from entrypoints.local_gateway.template.reading import TemplateError

_THROUGHPUT = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}  # CloudFormation's own default
_CREATE_KEYS = (
    "TableName", "KeySchema", "AttributeDefinitions", "BillingMode", "ProvisionedThroughput",
    "GlobalSecondaryIndexes", "LocalSecondaryIndexes",
)  # fmt: skip


def create_tables(client: Any, tables: Sequence[Mapping[str, Any]]) -> None:
    for properties in tables:
        name = properties["TableName"]
        kwargs = _create_kwargs(properties)
        try:
            client.create_table(**kwargs)
            ttl = properties.get("TimeToLiveSpecification")
            if ttl and ttl.get("Enabled") in (True, "true", "True"):
                spec = {"AttributeName": ttl["AttributeName"], "Enabled": True}
                client.update_time_to_live(TableName=name, TimeToLiveSpecification=spec)
        except Exception as error:
            raise TemplateError(f"table {name}: DynamoDB refused it: {error}") from error


def _create_kwargs(properties: Mapping[str, Any]) -> dict[str, Any]:
    kwargs = {key: properties[key] for key in _CREATE_KEYS if key in properties}
    on_demand = kwargs.get("BillingMode") == "PAY_PER_REQUEST"
    if not on_demand:
        kwargs.setdefault("ProvisionedThroughput", _THROUGHPUT)
    for index in kwargs.get("GlobalSecondaryIndexes", []):
        if on_demand:
            index.pop("ProvisionedThroughput", None)
        else:
            index.setdefault("ProvisionedThroughput", _THROUGHPUT)
    return kwargs
