"""One behaviour suite for every storage adapter: in memory, and DynamoDB under moto.

Long: it is one contract, and every storage adapter passes all of it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain.errors import UnknownConnection
from domain.limits import MAX_CONNECTION_SECONDS
from domain.model import Connection, Identity
from domain.ports import AudienceReads, ConnectionStore
from domain.shards import EveryonePart, RoomPart
from tests.contract.conftest import EXPIRES, T0, T0_MS


def opened(cid: str, at_ms: int = T0_MS, identity: Identity | None = None) -> Connection:
    return Connection.open(cid, at_ms, identity)


def ids(found: Iterator[str]) -> list[str]:
    return sorted(found)


def test_added_connection_reads_back(store: ConnectionStore) -> None:
    connection = Connection("a=", T0_MS, EXPIRES, frozenset({"lobby", "x"}))
    store.add(connection)
    assert store.get("a=") == connection
    assert store.get("nobody=") is None


def test_remove_reports_whether_it_existed_and_drops_memberships(store: ConnectionStore) -> None:
    store.add(opened("a="))
    store.add(opened("b="))
    store.join("a=", "lobby", 100)
    store.join("b=", "lobby", 100)
    removed = store.remove("a=")
    assert removed is not None and removed.rooms == {"lobby"}  # the record, as it was
    assert store.get("a=") is None
    assert ids(store.connection_ids(T0)) == ["b="]
    assert ids(store.room_member_ids("lobby", T0)) == ["b="]
    assert store.remove("a=") is None
    assert store.remove("never=") is None


def test_join_and_leave_return_the_updated_connection(store: ConnectionStore) -> None:
    identity = Identity(source_ip="203.0.113.9", principal="alice")
    store.add(opened("a=", identity=identity))
    joined = store.join("a=", "lobby", 100)
    assert joined == Connection("a=", T0_MS, EXPIRES, frozenset({"lobby"}), identity)
    assert store.join("a=", "lobby", 100) == joined  # joining twice is one membership
    assert store.join("a=", "games", 100).rooms == {"lobby", "games"}
    assert ids(store.room_member_ids("lobby", T0)) == ["a="]
    left = store.leave("a=", "lobby")
    assert left.rooms == {"games"}
    assert store.get("a=") == left
    assert ids(store.room_member_ids("lobby", T0)) == []
    assert store.leave("a=", "never-joined") == left
    assert store.leave("a=", "games").rooms == frozenset()
    assert store.get("a=") == opened("a=", identity=identity)


@pytest.mark.parametrize("action", ["join", "leave"])
def test_join_and_leave_refuse_unknown_connections(store: ConnectionStore, action: str) -> None:
    with pytest.raises(UnknownConnection) as raised:
        if action == "join":
            store.join("ghost=", "lobby", 100)
        else:
            store.leave("ghost=", "lobby")
    assert raised.value.connection_id == "ghost="
    assert store.get("ghost=") is None  # no record was created on the way
    assert ids(store.room_member_ids("lobby", T0)) == []


def test_reads_skip_expired_connections(store: ConnectionStore) -> None:
    store.add(opened("old=", T0_MS - 1000 * MAX_CONNECTION_SECONDS))  # expires at T0
    store.add(opened("new=", T0_MS - 1000 * MAX_CONNECTION_SECONDS + 1000))  # at T0 + 1
    for cid in ("old=", "new="):
        store.join(cid, "lobby", 100)
    assert ids(store.connection_ids(T0 - 1)) == ["new=", "old="]
    assert ids(store.room_member_ids("lobby", T0 - 0.5)) == ["new=", "old="]
    assert ids(store.connection_ids(T0)) == ["new="]  # expires_at <= now is expired
    assert ids(store.room_member_ids("lobby", T0)) == ["new="]
    assert ids(store.connection_ids(T0 + 1)) == []
    assert ids(store.room_member_ids("lobby", T0 + 1)) == []


def test_rooms_of_many_connections_are_kept_apart(store: ConnectionStore) -> None:
    for n in range(20):
        store.add(opened(f"c{n:02}="))
        store.join(f"c{n:02}=", f"room{n % 3}", 100)
        if n % 2 == 0:
            store.join(f"c{n:02}=", "even", 100)
    assert ids(store.connection_ids(T0)) == [f"c{n:02}=" for n in range(20)]
    for r in range(3):
        expected = [f"c{n:02}=" for n in range(20) if n % 3 == r]
        assert ids(store.room_member_ids(f"room{r}", T0)) == expected
    assert ids(store.room_member_ids("even", T0)) == [f"c{n:02}=" for n in range(0, 20, 2)]
    assert ids(store.room_member_ids("room", T0)) == []  # no prefix matching
    assert ids(store.room_member_ids("nobody-here", T0)) == []


def test_rooms_given_to_add_are_memberships(store: ConnectionStore) -> None:
    store.add(Connection("a=", T0_MS, EXPIRES, frozenset({"lobby", "games"})))
    assert ids(store.room_member_ids("lobby", T0)) == ["a="]
    assert ids(store.room_member_ids("games", T0)) == ["a="]


def test_re_adding_replaces_the_record_and_its_memberships(store: ConnectionStore) -> None:
    store.add(Connection("a=", T0_MS, EXPIRES, frozenset({"lobby", "games"})))
    later = Connection("a=", T0_MS + 5000, EXPIRES + 5, frozenset({"games", "chess"}))
    store.add(later)
    assert store.get("a=") == later
    assert ids(store.room_member_ids("lobby", T0)) == []
    assert ids(store.room_member_ids("chess", T0)) == ["a="]
    # The kept membership follows the new record's expiry, not the old one.
    assert ids(store.room_member_ids("games", EXPIRES + 1)) == ["a="]
    assert ids(store.connection_ids(T0)) == ["a="]


@pytest.mark.parametrize(
    "identity",
    [
        None,
        Identity(source_ip="198.51.100.7", user_agent="Mozilla/5.0 (X11; Linux x86_64)"),
        Identity(principal="alice", allowed_rooms=("public:*", "user:{sub}")),
        Identity(principal="bob", allowed_rooms=None),
        Identity(source_ip="192.0.2.1", allowed_rooms=()),  # an authorizer that allows no room
        Identity(source_ip="", user_agent="", principal="", allowed_rooms=("",)),
    ],
    ids=["none", "ip-agent", "patterns", "no-authorizer", "no-rooms-allowed", "empty-strings"],
)
def test_identity_round_trips(store: ConnectionStore, identity: Identity | None) -> None:
    store.add(opened("a=", identity=identity))
    stored = store.get("a=")
    assert stored is not None
    assert stored.identity == identity
    assert store.join("a=", "lobby", 100).identity == identity


# --- The reads of sharded broadcasts (AudienceReads) ------------------------------------------


@pytest.mark.parametrize("total", [1, 2, 3, 7])
def test_parts_of_everyone_partition_the_live_connections(
    store: ConnectionStore, reads: AudienceReads, total: int
) -> None:
    for n in range(12):
        store.add(opened(f"c{n:02}="))
    store.add(opened("old=", T0_MS - 1000 * MAX_CONNECTION_SECONDS))
    parts = [list(reads.part_ids(EveryonePart(s, total), T0)) for s in range(total)]
    assert sorted(c for part in parts for c in part) == [f"c{n:02}=" for n in range(12)]


def test_a_part_resumes_after_any_cursor_it_yielded_even_one_removed(
    store: ConnectionStore, reads: AudienceReads
) -> None:
    for n in range(10):
        store.add(opened(f"c{n:02}="))
    order = list(reads.part_ids(EveryonePart(0, 1), T0))
    assert list(reads.part_ids(EveryonePart(0, 1), T0)) == order  # a fixed order
    for i, cursor in enumerate(order):
        assert list(reads.part_ids(EveryonePart(0, 1), T0, cursor)) == order[i + 1 :]
    store.remove(order[4])
    assert list(reads.part_ids(EveryonePart(0, 1), T0, order[4])) == order[5:]


def test_room_parts_ascend_within_their_bounds_and_skip_the_expired(
    store: ConnectionStore, reads: AudienceReads
) -> None:
    for n in (5, 1, 9, 3, 7):
        store.add(opened(f"c{n}="))
        store.join(f"c{n}=", "lobby", 100)
    store.add(opened("c4=", T0_MS - 1000 * MAX_CONNECTION_SECONDS))
    store.join("c4=", "lobby", 100)
    store.add(opened("c2="))  # not a member
    assert list(reads.part_ids(RoomPart("lobby"), T0)) == ["c1=", "c3=", "c5=", "c7=", "c9="]
    assert list(reads.part_ids(RoomPart("lobby", "c3=", "c7="), T0)) == ["c5=", "c7="]
    assert list(reads.part_ids(RoomPart("lobby", "c2=", "c6="), T0)) == ["c3=", "c5="]
    assert list(reads.part_ids(RoomPart("lobby", None, "c3="), T0)) == ["c1=", "c3="]
    assert list(reads.part_ids(RoomPart("lobby", "c7="), T0)) == ["c9="]
    assert list(reads.part_ids(RoomPart("nobody-here"), T0)) == []
    # A cursor inside the range resumes after it, up to the range's end.
    assert list(reads.part_ids(RoomPart("lobby", "c1=", "c7="), T0, "c3=")) == ["c5=", "c7="]


def test_the_audience_estimate_counts_at_least_the_connections(
    store: ConnectionStore, reads: AudienceReads
) -> None:
    assert reads.audience_estimate(T0) == 0
    for n in range(5):
        store.add(opened(f"c{n}=", identity=None))
        store.join(f"c{n}=", "lobby", 100)
    assert reads.audience_estimate(T0) >= 5
