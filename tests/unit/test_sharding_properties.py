"""Shards partition the audience: for any audience, threshold, shard size, batch and crashes."""

from __future__ import annotations

from hypothesis import given, settings

from adapters.memory.store import MemoryStore

from .sharding_rig import World
from .sharding_scenarios import Scenario, check_partition, scenarios


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_every_member_hears_a_sharded_broadcast_once_but_for_unknown_outcomes(
    scenario: Scenario,
) -> None:
    check_partition(MemoryStore(), scenario)


@settings(max_examples=100, deadline=None)
@given(scenarios(max_connections=40))
def test_segments_of_the_memory_store_partition_the_live_ids_for_any_count(
    scenario: Scenario,
) -> None:
    w = World()
    w.connect(*scenario.members)
    w.connect(*scenario.late, expired=True)
    total = scenario.shard_size  # any segment count
    now = w.clock.now()
    parts = [list(w.store.segment_ids(now, s, total)) for s in range(total)]
    flat = [c for part in parts for c in part]
    assert sorted(flat) == sorted(scenario.members)
    for segment, part in enumerate(parts):  # and each resumes after any id it yielded
        for i, cursor in enumerate(part):
            assert list(w.store.segment_ids(now, segment, total, cursor)) == part[i + 1 :]
