"""The app's handler, except that it drops every fifth sendmessage: a load test must notice."""

from __future__ import annotations

import itertools
from typing import Any

from entrypoints.aws_lambda import handler as app_handler

DROP_EVERY = 5
_sends = itertools.count(1)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event["requestContext"]["routeKey"] == "sendmessage" and next(_sends) % DROP_EVERY == 0:
        return {"statusCode": 200, "body": "OK"}  # accepted, never delivered
    response: dict[str, Any] = app_handler(event, context)
    return response
