"""Every storage adapter keeps a connection's limits the same way: its message budget, and the
rooms it may be in, each checked atomically with the write, whichever instance writes."""

from __future__ import annotations

import threading

import pytest

from domain.budget import MessageBudget
from domain.errors import TooManyRooms, UnknownConnection
from domain.model import Connection
from domain.ports import ConnectionStore, MessageBudgets
from tests.contract.conftest import T0, T0_MS

BUDGET = MessageBudget(rate=10, burst=3)


def test_a_budget_allows_its_burst_then_one_message_per_interval(
    store: ConnectionStore, budgets: MessageBudgets
) -> None:
    store.add(Connection.open("a=", T0_MS))
    store.add(Connection.open("b=", T0_MS))
    assert [budgets.spend("a=", BUDGET, T0) for _ in range(5)] == [True, True, True, False, False]
    assert budgets.spend("b=", BUDGET, T0)  # each connection has its own
    assert not budgets.spend("a=", BUDGET, T0 + 0.05)  # half an interval: not yet
    assert budgets.spend("a=", BUDGET, T0 + 0.1)
    assert not budgets.spend("a=", BUDGET, T0 + 0.1)
    # Idle for long, the budget is whole again: a full burst, not more.
    later = T0 + 60
    assert [budgets.spend("a=", BUDGET, later) for _ in range(4)] == [True, True, True, False]


def test_a_connection_without_a_record_has_no_budget_to_spend(
    store: ConnectionStore, budgets: MessageBudgets
) -> None:
    assert budgets.spend("ghost=", BUDGET, T0) is False
    assert store.get("ghost=") is None  # and metering made no record


def test_a_budget_goes_with_its_connection(store: ConnectionStore, budgets: MessageBudgets) -> None:
    store.add(Connection.open("a=", T0_MS))
    assert [budgets.spend("a=", BUDGET, T0) for _ in range(4)] == [True, True, True, False]
    store.remove("a=")
    store.add(Connection.open("a=", T0_MS))  # the same id again (a test's trick): fresh
    assert budgets.spend("a=", BUDGET, T0)


def test_many_instances_spend_one_budget(store: ConnectionStore, budgets: MessageBudgets) -> None:
    store.add(Connection.open("a=", T0_MS))
    results: list[bool] = []
    lock = threading.Lock()

    def spend() -> None:
        allowed = budgets.spend("a=", MessageBudget(rate=1, burst=5), T0)
        with lock:
            results.append(allowed)

    threads = [threading.Thread(target=spend) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True] * 5  # the burst, once, whoever spent it


def test_a_join_past_the_room_limit_is_refused_and_writes_nothing(store: ConnectionStore) -> None:
    store.add(Connection.open("a=", T0_MS))
    for room in ("one", "two"):
        store.join("a=", room, 2)
    with pytest.raises(TooManyRooms):
        store.join("a=", "three", 2)
    assert store.get("a=").rooms == {"one", "two"}  # type: ignore[union-attr]
    assert list(store.room_member_ids("three", T0)) == []
    assert store.join("a=", "two", 2).rooms == {"one", "two"}  # a rejoin always passes


def test_concurrent_joins_take_the_last_places_once(store: ConnectionStore) -> None:
    store.add(Connection.open("a=", T0_MS))
    store.join("a=", "first", 3)
    outcomes: dict[str, str] = {}
    lock = threading.Lock()

    def join(room: str) -> None:
        try:
            store.join("a=", room, 3)
            outcome = "joined"
        except TooManyRooms:
            outcome = "refused"
        with lock:
            outcomes[room] = outcome

    rooms = [f"room-{n}" for n in range(8)]
    threads = [threading.Thread(target=join, args=(room,)) for room in rooms]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    joined = {room for room, outcome in outcomes.items() if outcome == "joined"}
    assert len(joined) == 2  # three rooms at most: two more places, never a third
    assert store.get("a=").rooms == {"first"} | joined  # type: ignore[union-attr]
    members = {room for room in rooms if list(store.room_member_ids(room, T0)) == ["a="]}
    assert members == joined  # each membership with its record, never one alone


def test_leaving_keeps_record_and_membership_together(store: ConnectionStore) -> None:
    store.add(Connection.open("a=", T0_MS))
    store.join("a=", "lobby", 5)
    assert store.leave("a=", "lobby").rooms == frozenset()
    assert list(store.room_member_ids("lobby", T0)) == []
    with pytest.raises(UnknownConnection):
        store.leave("ghost=", "lobby")
