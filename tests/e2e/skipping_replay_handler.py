"""The app's handler over a history whose replays skip their first message: a member that
rejoins with since misses one message each time, and the recovery load test must notice."""

from __future__ import annotations

from adapters.memory.logs import MemoryLogs
from domain.history import HistoryPolicy
from entrypoints.aws_lambda import handler as app_handler

_replay = MemoryLogs.replay


def _skipping_replay(
    self: MemoryLogs, room: str, after: int, keep: HistoryPolicy, now: float
) -> list[bytes] | None:
    missed = _replay(self, room, after, keep, now)
    return missed[1:] if missed else missed  # still "recovered": the client cannot tell


MemoryLogs.replay = _skipping_replay  # type: ignore[method-assign]
handler = app_handler
