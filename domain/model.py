"""Values: connections, identities, audiences, post outcomes and fan-out results."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from domain.limits import MAX_CONNECTION_SECONDS


@dataclass(frozen=True)
class Identity:
    """Who is behind a connection, as API Gateway and the authorizer saw it."""

    source_ip: str | None = None
    user_agent: str | None = None
    principal: str | None = None
    # Room patterns the authorizer allowed; None means no authorizer ran (no limit). An
    # authorizer whose context names no rooms, or malformed ones, allows none: ().
    allowed_rooms: tuple[str, ...] | None = None
    # Whether the connection may broadcast to everyone: always without an authorizer; with
    # one, only when the token granted it (the `broadcast` claim).
    may_broadcast: bool = True
    # When the token expires (epoch seconds), if an authorizer said so.
    token_expires_at: int | None = None

    @property
    def authorized(self) -> bool:
        """True when an authorizer ran for this connection (its limits then apply)."""
        return self.allowed_rooms is not None


@dataclass(frozen=True)
class Connection:
    """A live WebSocket connection as the store keeps it."""

    connection_id: str
    connected_at_ms: int
    expires_at: int  # epoch seconds, the unit DynamoDB's TTL reads
    rooms: frozenset[str] = frozenset()
    identity: Identity | None = None
    # When the record was written (epoch ms): API Gateway stamps connectedAt before the
    # authorizer and $connect run, so the record can be seconds younger than the connection.
    stored_at_ms: int | None = None

    @classmethod
    def open(
        cls,
        connection_id: str,
        connected_at_ms: int,
        identity: Identity | None = None,
        stored_at_ms: int | None = None,
    ) -> Connection:
        expires_at = connected_at_ms // 1000 + MAX_CONNECTION_SECONDS
        return cls(connection_id, connected_at_ms, expires_at, frozenset(), identity, stored_at_ms)

    def is_live(self, now: float) -> bool:
        return now < self.expires_at


@dataclass(frozen=True)
class Audience:
    """Who a broadcast goes to: everyone, or the members of one room."""

    room: str | None = None

    @property
    def everyone(self) -> bool:
        return self.room is None


EVERYONE = Audience()


class PostOutcome(Enum):
    """What happened to one post to one connection."""

    DELIVERED = "delivered"
    GONE = "gone"  # 410: closed, never existed, or not yet established
    THROTTLED = "throttled"  # 429: retry later
    FAILED = "failed"  # 5xx, timeout or network error: retry later
    REJECTED = "rejected"  # 400/403/413: retrying cannot help

    @property
    def retryable(self) -> bool:
        return self in (PostOutcome.THROTTLED, PostOutcome.FAILED)


@dataclass(frozen=True)
class FanoutResult:
    """What one fan-out achieved, counted per distinct recipient."""

    recipients: int = 0
    delivered: int = 0
    pruned: int = 0
    failed: int = 0
    retries: int = 0
    failed_ids: tuple[str, ...] = field(default=(), repr=False)

    def __add__(self, other: FanoutResult) -> FanoutResult:
        return FanoutResult(
            self.recipients + other.recipients,
            self.delivered + other.delivered,
            self.pruned + other.pruned,
            self.failed + other.failed,
            self.retries + other.retries,
            self.failed_ids + other.failed_ids,
        )


@dataclass(frozen=True)
class Grant:
    """What a verified token allows: who the caller is, which room patterns they may enter,
    whether they may broadcast to everyone, and until when (epoch seconds)."""

    principal: str
    rooms: tuple[str, ...]
    broadcast: bool = False
    expires_at: int | None = None
