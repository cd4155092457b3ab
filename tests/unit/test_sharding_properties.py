"""Shards partition the audience: for any audience, threshold, shard size, batch and crashes."""

from __future__ import annotations

from hypothesis import given, settings

from adapters import memory
from domain.shards import EveryonePart

from .sharding_rig import World
from .sharding_scenarios import Scenario, check_partition, scenarios


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_every_member_hears_a_sharded_broadcast_once_but_for_unknown_outcomes(
    scenario: Scenario,
) -> None:
    check_partition(memory.open_storage(), scenario)


@settings(max_examples=100, deadline=None)
@given(scenarios(max_connections=40))
def test_parts_of_everyone_in_memory_partition_the_live_ids_for_any_count(
    scenario: Scenario,
) -> None:
    w = World()
    w.connect(*scenario.members)
    w.connect(*scenario.late, expired=True)
    total = scenario.shard_size  # any number of parts
    now = w.clock.now()
    parts = [list(w.audience.part_ids(EveryonePart(s, total), now)) for s in range(total)]
    flat = [c for part in parts for c in part]
    assert sorted(flat) == sorted(scenario.members)
    for index, part in enumerate(parts):  # and each resumes after any cursor it yielded
        for i, cursor in enumerate(part):
            assert (
                list(w.audience.part_ids(EveryonePart(index, total), now, cursor)) == part[i + 1 :]
            )
