"""Route selection with `$request.body.action` (or another `$request.body.` path, as a template
names it), as API Gateway does it; JSON is read strictly.

Python's `json` accepts NaN, Infinity and -Infinity, which strict JSON (RFC 8259) forbids. AWS
does not document its parser, but API Gateway runs on the JVM, where Jackson rejects them by
default (ALLOW_NON_NUMERIC_NUMBERS is off): so a frame that uses them is taken as not JSON and
goes to $default, whatever its `action` (the most plausible behaviour; unconfirmed by AWS).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from itertools import accumulate
from typing import Any

DEFAULT_ROUTE = "$default"
RESERVED_ROUTES = frozenset(("$connect", "$disconnect", DEFAULT_ROUTE))
# JSON nested deeper than this is not searched for `action`: it goes to $default. Python's
# parser recurses, so how deep it gets depends on the stack already in use; a fixed bound,
# well inside it, routes a frame the same way in every thread (AWS's own bound is unconfirmed).
MAX_NESTING = 500
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")


BODY_EXPRESSION = re.compile(r"\$request\.body\.([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)")


class RouteSelector:
    """Picks a message's route: its JSON `action` (or the expression's field), when that names
    a route, else $default."""

    def __init__(self, routes: Iterable[str], expression: str = "$request.body.action") -> None:
        matched = BODY_EXPRESSION.fullmatch(expression)
        if not matched:
            raise ValueError(
                f"route selection expression {expression!r}: serve reads $request.body.<field>"
            )
        self.path = tuple(matched.group(1).split("."))
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
        if not self.routes or not body.lstrip().startswith("{") or too_deep(body):
            return DEFAULT_ROUTE
        try:
            frame = json.loads(body, parse_constant=_not_json)
        except (ValueError, RecursionError):
            return DEFAULT_ROUTE
        action: Any = frame
        for key in self.path:
            if not isinstance(action, dict):
                return DEFAULT_ROUTE
            action = action.get(key)
        if isinstance(action, str) and action in self.routes:
            return action
        return DEFAULT_ROUTE


def _not_json(constant: str) -> Any:
    # json calls this for NaN, Infinity and -Infinity only: strict JSON has none of them.
    raise ValueError(f"{constant} is not JSON")


def too_deep(text: str) -> bool:
    """True when JSON text nests arrays and objects more than MAX_NESTING levels deep."""
    if text.count("[") + text.count("{") <= MAX_NESTING:  # the usual case, at C speed
        return False
    brackets = _NOT_BRACKETS.sub("", _STRINGS.sub("", text))
    steps = (1 if bracket in "[{" else -1 for bracket in brackets)
    return max(accumulate(steps, initial=0)) > MAX_NESTING
