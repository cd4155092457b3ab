"""Plain HTTP requests and responses, and the router that maps them to handlers."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

# A route's cap on request bodies unless it sets its own (the @connections API sets AWS's 128 KB).
DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str  # as sent, still percent-encoded
    query: str
    headers: list[tuple[str, str]]  # names in lower case
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # the route pattern's named groups

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((value for key, value in self.headers if key == name), None)


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def json(cls, status: int, value: Any, headers: Iterable[tuple[str, str]] = ()) -> HttpResponse:
        kind = [("Content-Type", "application/json")]
        return cls(status, json.dumps(value).encode(), [*kind, *headers])

    @classmethod
    def text(cls, status: int, text: str) -> HttpResponse:
        return cls(status, text.encode(), [("Content-Type", "text/plain; charset=utf-8")])

    @classmethod
    def too_large(cls, limit: int, size: int | None = None) -> HttpResponse:
        """413 PayloadTooLargeException, as API Gateway answers an oversized @connections post."""
        message = (
            f"The payload is {size} bytes; the limit is {limit}"
            if size is not None
            else f"The payload is more than {limit} bytes, the limit"
        )
        error_type = [("x-amzn-ErrorType", "PayloadTooLargeException")]
        return cls.json(413, {"message": message}, error_type)


RouteHandler = Callable[[HttpRequest], Awaitable[HttpResponse]]


@dataclass(frozen=True)
class Route:
    methods: frozenset[str]
    pattern: re.Pattern[str]
    handler: RouteHandler
    # Bodies past this many bytes are refused with 413 before they are read (Content-Length) or
    # as soon as they grow past it (chunked): the handler never sees them.
    max_body_bytes: int


class Router:
    """Method and path pattern to handler, with each route's cap on request bodies."""

    def __init__(self) -> None:
        self._routes: list[Route] = []

    def add(
        self,
        methods: Iterable[str],
        pattern: str,
        handler: RouteHandler,
        *,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        if max_body_bytes < 0:
            raise ValueError(f"max_body_bytes must be 0 or more, not {max_body_bytes}")
        route = Route(frozenset(methods), re.compile(pattern), handler, max_body_bytes)
        self._routes.append(route)

    def serves(self, path: str) -> bool:
        """Whether any route serves `path` (by any method)."""
        return any(route.pattern.fullmatch(path) for route in self._routes)

    def max_body_bytes(self, method: str, path: str) -> int:
        """The cap on a request's body: its route's; for a method the path's routes do not
        serve (405), the smallest of theirs; DEFAULT_MAX_BODY_BYTES for a path none serves."""
        route, others = self._find(method, path)
        if route is not None:
            return route.max_body_bytes
        return min((other.max_body_bytes for other in others), default=DEFAULT_MAX_BODY_BYTES)

    async def dispatch(self, request: HttpRequest) -> HttpResponse:
        route, others = self._find(request.method, request.path)
        if route is not None:
            match = route.pattern.fullmatch(request.path)
            assert match is not None
            return await route.handler(replace(request, params=match.groupdict()))
        if others:
            allowed = sorted(set().union(*(other.methods for other in others)))
            return HttpResponse.json(405, {"message": f"Use {', '.join(allowed)}"})
        return HttpResponse.json(404, {"message": f"Nothing is served at {request.path}"})

    def _find(self, method: str, path: str) -> tuple[Route | None, list[Route]]:
        """The first route for `method` and `path`, else None and the routes for `path`."""
        others = []
        for route in self._routes:
            if route.pattern.fullmatch(path) is None:
                continue
            if method in route.methods:
                return route, []
            others.append(route)
        return None, others
