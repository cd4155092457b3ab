"""PostToConnection's and DeleteConnection's rules, one place for the @connections API and
in-process delivery."""

from __future__ import annotations

from dataclasses import dataclass

from domain.limits import MAX_PAYLOAD_BYTES
from entrypoints.local_gateway.websocket.runtime import Runtime

# Past this many bytes waiting in a client's socket buffer, posts get 429 as on AWS
# ("the client's buffer is full") instead of growing the buffer without bound.
MAX_BUFFERED_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Refusal:
    """Why a post was not delivered: the status and error type API Gateway answers."""

    status: int
    error_type: str
    message: str


def post_to_connection(runtime: Runtime, connection_id: str, data: bytes) -> Refusal | None:
    """Send `data` as one message (32 KB frames past 32 KB); None once it is on its way.

    Call it on the gateway's event loop: it writes to the connection's socket.
    """
    if len(data) > MAX_PAYLOAD_BYTES:
        message = f"The payload is {len(data)} bytes; the limit is {MAX_PAYLOAD_BYTES}"
        return Refusal(413, "PayloadTooLargeException", message)
    connection = runtime.registry.get(connection_id)
    if connection is None:
        return gone(connection_id)
    if connection.wire.buffered_bytes() > MAX_BUFFERED_BYTES:
        return Refusal(429, "LimitExceededException", "The client's buffer is full")
    connection.send(data)  # fragments past 32 KB and counts as activity (lastActiveAt)
    return None


def gone(connection_id: str) -> Refusal:
    # Closed, never existed, or not established yet (a post from its own $connect).
    return Refusal(410, "GoneException", f"Connection {connection_id} is gone")


def delete_connection(runtime: Runtime, connection_id: str) -> Refusal | None:
    """Close the connection as DeleteConnection does; None once it is closing. AWS reports
    1000 "Connection Closed Normally" to $disconnect after it. Call it on the gateway's loop."""
    connection = runtime.registry.get(connection_id)
    if connection is None:
        return gone(connection_id)
    connection.wire.close(1000, "", disconnect_reason="Connection Closed Normally")
    return None
