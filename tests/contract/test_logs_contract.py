"""Every store keeps each room's order and history the same way: seqs 1, 2, 3 ... never shared
or skipped however many senders write at once, a sender's id kept once, the last `size`
messages replayable until they expire."""

from __future__ import annotations

import itertools
import threading

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.history import Appended, HistoryPolicy
from domain.ports import RoomLogs, Storage
from tests.contract.conftest import T0

KEEP = HistoryPolicy(size=5, ttl=60)
EXAMPLES = itertools.count()


def body(room: str, seq: int) -> bytes:
    return f'{{"room":"{room}","seq":{seq}}}'.encode()


def append(
    logs: RoomLogs,
    room: str,
    sender: str = "s",
    message_id: str = "",
    now: float = T0,
    keep: HistoryPolicy = KEEP,
) -> Appended:
    """Without `message_id`, a server-made one: no deduplication, as the use case does."""

    def render(seq: int) -> bytes:
        return body(room, seq)

    chosen = message_id or f"id-{sender}"
    return logs.append(room, sender, chosen, render, keep, now, bool(message_id))


def test_seqs_count_up_per_room_from_one(logs: RoomLogs) -> None:
    assert logs.last_seq("x") == 0
    assert [append(logs, "x").seq for _ in range(3)] == [1, 2, 3]
    assert append(logs, "y").seq == 1
    assert (logs.last_seq("x"), logs.last_seq("y")) == (3, 1)


def test_a_sender_s_id_is_kept_once_within_the_window(logs: RoomLogs) -> None:
    first = append(logs, "x", "alice", "c1")
    again = append(logs, "x", "alice", "c1")
    other = append(logs, "x", "bob", "c1")
    assert (first.seq, first.duplicate) == (1, False)
    assert (again.seq, again.duplicate) == (1, True)
    assert (other.seq, other.duplicate) == (2, False)
    assert logs.replay("x", 0, KEEP, T0) == [body("x", 1), body("x", 2)]
    later = append(logs, "x", "alice", "c1", now=T0 + KEEP.ttl + 1)  # past the window
    assert (later.seq, later.duplicate) == (3, False)


def test_replay_gives_the_messages_after_a_seq_in_order(logs: RoomLogs) -> None:
    for _ in range(4):
        append(logs, "x")
    assert logs.replay("x", 1, KEEP, T0) == [body("x", n) for n in (2, 3, 4)]
    assert logs.replay("x", 4, KEEP, T0) == []
    assert logs.replay("x", 9, KEEP, T0) is None  # past the last


def test_replay_past_the_kept_window_or_expiry_says_so(logs: RoomLogs) -> None:
    for _ in range(8):
        append(logs, "x")
    assert logs.replay("x", 3, KEEP, T0) == [body("x", n) for n in range(4, 9)]
    assert logs.replay("x", 2, KEEP, T0) is None  # seq 3 is beyond the last 5
    assert logs.replay("x", 3, KEEP, T0 + KEEP.ttl + 1) is None  # expired


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(senders=st.integers(2, 6), each=st.integers(1, 8), with_ids=st.booleans())
def test_concurrent_senders_never_share_or_skip_a_seq(
    storage: Storage, senders: int, each: int, with_ids: bool
) -> None:
    # One storage for every example (a function-scoped fixture): a fresh room for each.
    logs, room = storage.logs, f"busy-{next(EXAMPLES)}"
    seqs: list[int] = []
    lock = threading.Lock()
    wide = HistoryPolicy(size=1000, ttl=60)

    def sender(n: int) -> None:
        for k in range(each):
            appended = append(logs, room, f"s{n}", f"m{k}" if with_ids else "", keep=wide)
            with lock:
                seqs.append(appended.seq)

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = senders * each
    assert sorted(seqs) == list(range(1, total + 1))
    stored = logs.replay(room, 0, wide, T0)
    assert stored == [body(room, n) for n in range(1, total + 1)]
