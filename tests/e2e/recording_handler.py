"""A Lambda handler for the e2e tests: records each event and context, and acts on requests.

$connect: `?status=N` answers N, `?raise=1` raises, `?post_self=1` posts to its own
connection (the outcome is recorded). Messages on $default: `raise`, `sleep:S`, `big:N`
(N bytes back), `id` (the connection id back); anything else is answered `got N` (its size).
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

import boto3
from botocore.exceptions import ClientError

RECORDING_FILE = os.environ["RECORDING_FILE"]
_lock = threading.Lock()
# Built at import, after `switchboard serve` set APIGW_ENDPOINT: clients are thread-safe.
_management = boto3.client("apigatewaymanagementapi", endpoint_url=os.environ["APIGW_ENDPOINT"])


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = event["requestContext"]
    record: dict[str, Any] = {"event": event, "context": _context(context)}
    route = request["routeKey"]
    connection_id = request["connectionId"]
    if route == "$connect":
        query = event.get("queryStringParameters") or {}
        if "post_self" in query:
            record["post_self"] = _post(connection_id, b"from $connect")
        _record(record)
        if "raise" in query:
            raise RuntimeError("$connect failed on purpose")
        return {"statusCode": int(query.get("status", 200))}
    _record(record)
    if route == "$disconnect":
        return {"statusCode": 200}
    _answer(connection_id, route, event["body"])
    return {"statusCode": 200}


def _answer(connection_id: str, route: str, body: str) -> None:
    if body == "raise":
        raise RuntimeError("message failed on purpose")
    if body.startswith("sleep:"):
        time.sleep(float(body.removeprefix("sleep:")))
        _post(connection_id, body.encode())
    elif body.startswith("big:"):
        _post(connection_id, b"x" * int(body.removeprefix("big:")))
    elif body == "id":
        _post(connection_id, connection_id.encode())
    else:
        _post(connection_id, f"got {len(body)} on {route}".encode())


def _post(connection_id: str, data: bytes) -> str:
    try:
        _management.post_to_connection(ConnectionId=connection_id, Data=data)
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return "ok"


def _context(context: Any) -> dict[str, Any]:
    names = (
        "aws_request_id",
        "function_name",
        "function_version",
        "invoked_function_arn",
        "memory_limit_in_mb",
        "log_group_name",
        "log_stream_name",
    )
    values = {name: getattr(context, name) for name in names}
    values["remaining_ms"] = context.get_remaining_time_in_millis()
    return values


def _record(record: dict[str, Any]) -> None:
    line = json.dumps(record) + "\n"
    with _lock, open(RECORDING_FILE, "a", encoding="utf-8") as out:
        out.write(line)
