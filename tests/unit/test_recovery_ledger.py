"""The load test's ledger under recovery: the watermark a member rejoins with, replays, and
what counts as lost or as unrecoverable."""

from __future__ import annotations

from loadtests.delivery_ledger import Ledger, Membership


def _room_sends(ledger: Ledger, count: int, start: float = 1.0) -> list[str]:
    ids = [f"m{n}" for n in range(1, count + 1)]
    for n, msg_id in enumerate(ids):
        ledger.sent("r", msg_id, start + n)
    return ids


def _deliver(ledger: Ledger, member: Membership, seqs: range, replayed: bool = False) -> None:
    for seq in seqs:  # in these tests message m<n> was stored at seq n
        ledger.delivered(member, f"m{seq}", seq, 1.0, replayed)


def test_the_watermark_starts_at_the_join_and_stops_below_the_first_gap() -> None:
    ledger = Ledger()
    member = ledger.joined("r", 0.0, seq=4)
    assert member.watermark == 4
    ledger.delivered(member, "a", 5, 1.0)
    ledger.delivered(member, "c", 7, 1.0)
    assert member.watermark == 5  # 6 is missing
    ledger.delivered(member, "b", 6, 1.0)
    assert member.watermark == 7


def test_a_member_away_loses_nothing_when_the_replay_brings_what_it_missed() -> None:
    ledger = Ledger()
    away, stays = ledger.joined("r", 0.5), ledger.joined("r", 0.5)
    _room_sends(ledger, 6)
    _deliver(ledger, stays, range(1, 7))
    _deliver(ledger, away, range(1, 3))  # live, then the socket drops
    _deliver(ledger, away, range(4, 5))  # live on the new connection, before its joined
    ledger.rejoined(away, since=away.watermark, seq=5, recovered=True, latency_ms=12.0)
    _deliver(ledger, away, range(3, 6), replayed=True)  # 3..5; 4 again is a duplicate
    _deliver(ledger, away, range(6, 7))
    summary = ledger.summary(0.0, 10.0)
    assert (summary["expected"], summary["lost"], summary["unrecoverable"]) == (12, 0, 0)
    assert (summary["replayed"], summary["duplicates"]) == (3, 1)
    assert summary["rejoins"] == {"recovered": 1, "not_recovered": 0}
    assert summary["rejoin_ms"]["max"] == 12.0
    assert away.watermark == 6


def test_a_replay_that_skips_a_message_leaves_it_lost() -> None:
    ledger = Ledger()
    away, stays = ledger.joined("r", 0.5), ledger.joined("r", 0.5)
    _room_sends(ledger, 5)
    _deliver(ledger, stays, range(1, 6))
    _deliver(ledger, away, range(1, 2))
    ledger.rejoined(away, since=1, seq=5, recovered=True, latency_ms=3.0)
    _deliver(ledger, away, range(3, 6), replayed=True)  # 2 never comes
    summary = ledger.summary(0.0, 10.0)
    assert (summary["lost"], summary["unrecoverable"]) == (1, 0)
    assert summary["lost_sample"] == ["r/m2"]
    assert away.watermark == 1  # the next rejoin asks for 2 again
    assert ledger.missing(10.0) == 1


def test_not_recovered_makes_the_gap_unrecoverable_but_what_nobody_saw_is_still_lost() -> None:
    ledger = Ledger()
    away, stays = ledger.joined("r", 0.5), ledger.joined("r", 0.5)
    _room_sends(ledger, 6)
    ledger.sent("r", "never-stored", 7.5)  # accepted by the server, seen by no one
    _deliver(ledger, stays, range(1, 7))
    _deliver(ledger, away, range(1, 3))
    ledger.rejoined(away, since=2, seq=5, recovered=False, latency_ms=4.0)
    _deliver(ledger, away, range(6, 7))
    summary = ledger.summary(0.0, 10.0)
    assert summary["unrecoverable"] == 3  # seqs 3, 4 and 5: only `stays` has them
    assert summary["lost"] == 2  # never-stored, for each member
    assert sorted(summary["lost_sample"]) == ["r/never-stored"] * 2
    assert summary["rejoins"] == {"recovered": 0, "not_recovered": 1}
    assert away.watermark == 6  # past the gap: the next rejoin does not ask for it again
    assert ledger.missing(10.0) == 2  # the drain does not wait for what cannot come


def test_a_message_the_server_accepted_but_never_stored_is_lost_by_id() -> None:
    ledger = Ledger()
    member = ledger.joined("r", 0.0)
    ledger.sent("r", "m1", 1.0)
    ledger.sent("r", "dropped", 2.0)
    ledger.sent("r", "m2", 3.0)
    ledger.delivered(member, "m1", 1, 1.0)
    ledger.delivered(member, "m2", 2, 1.0)  # seqs run on without a gap
    summary = ledger.summary(0.0, 10.0)
    assert member.watermark == 2
    assert (summary["lost"], summary["lost_sample"]) == (1, ["r/dropped"])
