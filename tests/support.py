"""Test support: recorded API Gateway events and a Lambda context stand-in."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).parent / "events"


def load_event(name: str, **context: Any) -> dict[str, Any]:
    """A recorded event from tests/events/NAME.json, with requestContext fields replaced."""
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    event = copy.deepcopy(event)
    event["requestContext"].update(context)
    return event


@dataclass
class LambdaContext:
    """What Lambda passes as `context`, as far as our handler and Powertools read it."""

    function_name: str = "switchboard-handler"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:switchboard-handler"
    aws_request_id: str = "52fdfc07-2182-454f-963f-5f0f9a621d72"
    log_group_name: str = "/aws/lambda/switchboard-handler"
    log_stream_name: str = "2024/11/11/[$LATEST]0123456789abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000
