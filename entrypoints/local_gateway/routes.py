"""Route selection with `$request.body.action`, as API Gateway does it."""

from __future__ import annotations

import json
from collections.abc import Iterable

DEFAULT_ROUTE = "$default"
RESERVED_ROUTES = frozenset(("$connect", "$disconnect", DEFAULT_ROUTE))


class RouteSelector:
    """Picks a message's route: its JSON `action`, when that names a route, else $default."""

    def __init__(self, routes: Iterable[str]) -> None:
        names = [name.strip() for name in routes if name.strip()]
        reserved = sorted(RESERVED_ROUTES.intersection(names))
        if reserved:
            raise ValueError(
                f"routes {reserved} are built in; list only custom route keys (e.g. sendmessage)"
            )
        self.routes = frozenset(names)

    def select(self, body: str) -> str:
        # API Gateway only evaluates the expression on text that parses as a JSON object;
        # anything else (plain text, arrays, a non-string or unknown action) goes to $default.
        if not self.routes or not body.lstrip().startswith("{"):
            return DEFAULT_ROUTE
        try:
            frame = json.loads(body)
        except ValueError:
            return DEFAULT_ROUTE
        if not isinstance(frame, dict):
            return DEFAULT_ROUTE
        action = frame.get("action")
        if isinstance(action, str) and action in self.routes:
            return action
        return DEFAULT_ROUTE
