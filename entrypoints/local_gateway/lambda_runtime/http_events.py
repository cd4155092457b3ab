"""An HTTP API request as API Gateway hands it to a Lambda proxy integration (payload format 2.0),
with the caller's IAM identity as an AWS_IAM route passes it on (requestContext.authorizer.iam)."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from entrypoints.local_gateway.lambda_runtime import ids
from entrypoints.local_gateway.lambda_runtime.events import now_ms, request_time
from entrypoints.local_gateway.lambda_runtime.lambda_context import ACCOUNT_ID


def iam_identity(access_key: str) -> dict[str, Any]:
    """What an AWS_IAM route passes on of a signed call. serve has no IAM: it knows the access
    key that signed the call, and neither the user nor the role behind it (userArn is null)."""
    return {
        "accessKey": access_key,
        "accountId": ACCOUNT_ID,
        "callerId": None,
        "cognitoIdentity": None,
        "principalOrgId": None,
        "userArn": None,
        "userId": None,
    }


def http_api_event(
    method: str,
    path: str,
    query: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    *,
    api_id: str,
    host: str,
    iam: dict[str, Any] | None,
) -> dict[str, Any]:
    """The event for `METHOD PATH` on the $default stage. Header names are lower case and a
    repeated header's values are joined with commas, as format 2.0 does; a body that is not
    UTF-8 text arrives base64-encoded."""
    joined: dict[str, str] = {}
    for name, value in headers:
        name = name.lower()
        joined[name] = f"{joined[name]},{value}" if name in joined else value
    try:
        text, encoded = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode("ascii"), True
    epoch_ms = now_ms()
    route_key = f"{method} {path}"
    context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": api_id,
        "domainName": host,
        "domainPrefix": host.split(".")[0],
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1",
            "userAgent": joined.get("user-agent", ""),
        },
        "requestId": ids.gateway_id(),
        "routeKey": route_key,
        "stage": "$default",
        "time": request_time(epoch_ms),
        "timeEpoch": epoch_ms,
    }
    if iam is not None:
        context["authorizer"] = {"iam": iam}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": joined,
        "requestContext": context,
        "isBase64Encoded": encoded,
    }
    if query:  # format 2.0 joins a repeated parameter's values with commas, as it does headers
        params: dict[str, str] = {}
        for name, value in parse_qsl(query, keep_blank_values=True):
            params[name] = f"{params[name]},{value}" if name in params else value
        event["queryStringParameters"] = params
    if body:
        event["body"] = text
    return event
