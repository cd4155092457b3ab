"""The live connections: what the @connections API can reach, and when each was last active."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from entrypoints.local_gateway.lambda_runtime.events import ConnectionFacts, now_ms
from entrypoints.local_gateway.websocket.wire import Wire


@dataclass
class LiveConnection:
    """An established WebSocket: registered after $connect accepted it, until it closes."""

    facts: ConnectionFacts
    wire: Wire
    last_active_ms: int

    @property
    def connection_id(self) -> str:
        return self.facts.connection_id

    def touch(self) -> None:
        # A data message either way counts as activity, as for API Gateway's idle timeout
        # (a server's own messages keep a connection alive there); ping frames do not.
        self.last_active_ms = now_ms()

    def send(self, data: bytes) -> None:
        self.wire.send_message(data)
        self.touch()

    def describe(self) -> dict[str, Any]:
        """GetConnection's answer."""
        identity = {"sourceIp": self.facts.source_ip}
        if self.facts.user_agent:
            identity["userAgent"] = self.facts.user_agent
        return {
            "connectedAt": _iso(self.facts.connected_at_ms),
            "lastActiveAt": _iso(self.last_active_ms),
            "identity": identity,
        }


class ConnectionRegistry:
    """Connections by id; used only from the event loop's thread, so it needs no lock."""

    def __init__(self) -> None:
        self._live: dict[str, LiveConnection] = {}

    def add(self, connection: LiveConnection) -> None:
        self._live[connection.connection_id] = connection

    def remove(self, connection_id: str) -> None:
        self._live.pop(connection_id, None)

    def get(self, connection_id: str) -> LiveConnection | None:
        connection = self._live.get(connection_id)
        # A connection that is closing is gone for the @connections API, as on AWS.
        return connection if connection is not None and connection.wire.is_open else None

    def __len__(self) -> int:
        return len(self._live)

    def __iter__(self) -> Iterator[LiveConnection]:
        return iter(list(self._live.values()))


def _iso(epoch_ms: int) -> str:
    # botocore parses these as timestamps; milliseconds and a Z, like AWS's answers.
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
