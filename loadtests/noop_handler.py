"""A Lambda handler that does nothing but accept: what `serve` itself costs per call."""

from __future__ import annotations

from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 200}
