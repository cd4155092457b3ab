"""What a use case did, and the limits it kept to: values the handlers map to their answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from domain.budget import MessageBudget
from domain.history import HistoryPolicy
from domain.model import FanoutResult

if TYPE_CHECKING:
    from domain.shards import Dispatched


@dataclass(frozen=True)
class MessageOutcome:
    """What a message did: the command it was, and the fan-out(s) it caused."""

    command: str
    broadcast: FanoutResult | None = None
    reply: FanoutResult | None = None
    error: str | None = None
    sharded: Dispatched | None = None  # a broadcast handed to fan-out workers
    closed: bool = False  # the connection was closed (its token had expired)


@dataclass(frozen=True)
class Published:
    """What a publish from a backend did (the answer of POST /publish)."""

    room: str | None
    seq: int | None
    message_id: str
    recipients: int
    duplicate: bool = False
    sharded: bool = False  # handed to fan-out workers: recipients is what planning saw
    error: str | None = None  # a refusal: its code, with `message`
    message: str = ""


@dataclass(frozen=True)
class Limits:
    """What one connection may do, and what each room keeps: rooms at once, messages (the
    budget), the history, and up to which size a room's members hear presence events."""

    max_rooms: int = 100
    budget: MessageBudget = field(default_factory=MessageBudget)
    history: HistoryPolicy = field(default_factory=HistoryPolicy)
    presence_events_max: int = 100
    presence_list_max: int = 100  # members a presence answer lists at most

    def __post_init__(self) -> None:
        if self.max_rooms < 1:
            raise ValueError(f"max_rooms must be at least 1, not {self.max_rooms}")
        if self.presence_events_max < 0:
            raise ValueError(
                f"presence_events_max must not be negative: {self.presence_events_max}"
            )
