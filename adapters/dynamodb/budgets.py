"""Message budgets on DynamoDB: each connection's GCRA time (domain/budget.py), `tat` on its own
record, moved by conditional writes, never read first.

A message within budget is one UpdateItem: `tat = tat + interval`, on the condition that
now <= tat <= now + tolerance (the connection is busy but within its burst). When that fails,
the item DynamoDB returns (ReturnValuesOnConditionCheckFailure) tells why: no item, or a tat in
the past (idle), starts afresh with `tat = now + interval` on the condition that it still is;
a tat beyond now + tolerance is over budget. Every Lambda instance meters the same item, so
the budget holds however many instances a flood spreads over. On the record, the budget goes
with it (removal, pruning, TTL); `tat` is in no index, so a write to it writes no index. A
connection with no record has no budget to spend: its messages are refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from adapters.dynamodb import items
from domain.budget import MessageBudget
from domain.errors import StoreError
from domain.ports import MessageBudgets

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# A message that loses a race to another of the same connection tries again, this often.
_ATTEMPTS = 3


class DynamoBudgets(MessageBudgets):
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def spend(self, connection_id: str, budget: MessageBudget, now: float) -> bool:
        for _ in range(_ATTEMPTS):
            busy = self._update(
                connection_id,
                "SET tat = tat + :interval",
                "tat BETWEEN :now AND :limit",
                {
                    ":interval": _n(budget.interval),
                    ":now": _n(now),
                    ":limit": _n(now + budget.tolerance),
                },
            )
            if busy is None:
                return True
            if not busy:
                return False  # no record: nothing to meter against
            if "tat" in busy and float(busy["tat"]["N"]) >= now:
                return False  # beyond the burst: over budget
            fresh = self._update(
                connection_id,
                "SET tat = :start",
                "attribute_exists(connectionId) AND (attribute_not_exists(tat) OR tat < :now)",
                {":start": _n(now + budget.interval), ":now": _n(now)},
            )
            if fresh is None:
                return True
        return False  # lost every race to the connection's own other messages

    def _update(
        self, connection_id: str, expression: str, condition: str, values: dict[str, Any]
    ) -> dict[str, Any] | None:
        """None when the write took; the item as it was (maybe empty) when its condition failed."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=items.key(connection_id),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                response: dict[str, Any] = dict(error.response)
                item: dict[str, Any] = response.get("Item") or {}
                return item
            raise StoreError(f"DynamoDB could not meter {connection_id!r}: {error}") from error
        except BotoCoreError as error:
            raise StoreError(f"DynamoDB could not meter {connection_id!r}: {error}") from error
        return None


def _n(value: float) -> dict[str, str]:
    return {"N": repr(value)}
