"""Endpoints served by this very process: a gateway registers how to deliver to its own."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Protocol

from domain.model import PostOutcome


class Deliver(Protocol):
    """A gateway's own @connections API, in-process. Synchronous, callable from any thread."""

    def __call__(self, payload: bytes, connection_ids: Sequence[str]) -> Mapping[str, PostOutcome]:
        """Write `payload` to each id's connection; an outcome for every id, as
        PostToConnection would answer it (GONE for unknown, closed or not-yet-established)."""
        ...

    def disconnect(self, connection_id: str) -> PostOutcome:
        """Close the connection, as DeleteConnection does (GONE when it is not open)."""
        ...


_lock = threading.Lock()
_by_endpoint: dict[str, Deliver] = {}


def _key(endpoint: str) -> str:
    # APIGW_ENDPOINT is read with its trailing slash stripped: match it either way.
    return endpoint.rstrip("/")


def register(endpoint: str, deliver: Deliver) -> None:
    """Serve posts to `endpoint` with `deliver`; raises ValueError if another one does."""
    with _lock:
        current = _by_endpoint.get(_key(endpoint))
        if current is not None and current != deliver:
            raise ValueError(f"{endpoint} is already served in this process")
        _by_endpoint[_key(endpoint)] = deliver


def unregister(endpoint: str) -> None:
    """Stop serving `endpoint` in-process (posts go over HTTP again); no error if it was not."""
    with _lock:
        _by_endpoint.pop(_key(endpoint), None)


def lookup(endpoint: str) -> Deliver | None:
    """How to deliver to `endpoint` in-process, or None when no gateway here serves it."""
    with _lock:
        return _by_endpoint.get(_key(endpoint))
