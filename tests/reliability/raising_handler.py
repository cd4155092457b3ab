"""The app's handler, except that a frame reading exactly `boom` makes it raise."""

from __future__ import annotations

from typing import Any

from entrypoints.aws_lambda import handler as app_handler

BOOM = "boom"


def handler(event: dict[str, Any], context: Any) -> Any:
    if event.get("body") == BOOM:
        raise RuntimeError("the handler failed on purpose")
    return app_handler(event, context)
