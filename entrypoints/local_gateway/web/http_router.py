"""Plain HTTP requests and responses, and the router that maps them to handlers."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any


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


RouteHandler = Callable[[HttpRequest], Awaitable[HttpResponse]]


class Router:
    """Method and path pattern to handler; issue 8's page at / registers here too."""

    def __init__(self) -> None:
        self._routes: list[tuple[frozenset[str], re.Pattern[str], RouteHandler]] = []

    def add(self, methods: Iterable[str], pattern: str, handler: RouteHandler) -> None:
        self._routes.append((frozenset(methods), re.compile(pattern), handler))

    async def dispatch(self, request: HttpRequest) -> HttpResponse:
        allowed: set[str] = set()
        for methods, pattern, handler in self._routes:
            match = pattern.fullmatch(request.path)
            if match is None:
                continue
            if request.method in methods:
                return await handler(replace(request, params=match.groupdict()))
            allowed |= methods
        if allowed:
            return HttpResponse.json(405, {"message": f"Use {', '.join(sorted(allowed))}"})
        return HttpResponse.json(404, {"message": f"Nothing is served at {request.path}"})
