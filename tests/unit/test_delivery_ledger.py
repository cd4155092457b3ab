"""The load test's ledger: which deliveries were expected, and which of them were lost."""

from __future__ import annotations

import pytest

from loadtests.delivery_ledger import Ledger, percentile


def test_a_member_present_throughout_expects_every_message_of_its_room() -> None:
    ledger = Ledger()
    alice, bob = ledger.joined("r", 1.0), ledger.joined("r", 1.5)
    ledger.sent("r", "m1", 2.0)
    ledger.sent("r", "m2", 3.0)
    ledger.sent("other", "x1", 3.0)
    for member in (alice, bob):
        ledger.delivered(member, "m1", 1, 4.0)
        ledger.delivered(member, "m2", 2, 6.0)
    summary = ledger.summary(started=0.0, ended=10.0)
    assert (summary["sent"], summary["expected"], summary["received"]) == (3, 4, 4)
    assert summary["lost"] == 0


def test_a_message_never_received_is_lost_and_named() -> None:
    ledger = Ledger()
    member = ledger.joined("r", 1.0)
    ledger.sent("r", "m1", 2.0)
    ledger.sent("r", "m2", 3.0)
    ledger.delivered(member, "m1", 1, 5.0)
    summary = ledger.summary(0.0, 10.0)
    assert (summary["expected"], summary["lost"]) == (2, 1)
    assert summary["lost_sample"] == ["r/m2"]
    assert ledger.missing(10.0) == 1


def test_messages_outside_the_membership_are_not_expected() -> None:
    ledger = Ledger()
    ledger.sent("r", "before", 1.0)
    member = ledger.joined("r", 2.0)
    ledger.sent("r", "during", 3.0)
    ledger.stop_expecting(member, 4.0)
    ledger.sent("r", "after-leaving", 5.0)
    ledger.delivered(member, "during", 2, 1.0)
    summary = ledger.summary(0.0, 10.0)
    assert (summary["expected"], summary["lost"]) == (1, 0)


def test_messages_after_the_end_of_sending_are_not_expected() -> None:
    ledger = Ledger()
    ledger.joined("r", 0.0)
    ledger.sent("r", "in-time", 1.0)
    ledger.sent("r", "late", 9.0)
    assert ledger.missing(ended=5.0) == 1
    assert ledger.summary(0.0, 5.0)["expected"] == 1


def test_the_earliest_stop_wins() -> None:
    ledger = Ledger()
    member = ledger.joined("r", 0.0)
    ledger.stop_expecting(member, 3.0)
    ledger.stop_expecting(member, 5.0)  # e.g. closing after having decided to leave
    ledger.sent("r", "m", 4.0)
    assert ledger.summary(0.0, 10.0)["expected"] == 0


def test_a_duplicate_is_counted_once_as_a_delivery_and_once_as_a_duplicate() -> None:
    ledger = Ledger()
    member = ledger.joined("r", 0.0)
    ledger.sent("r", "m", 1.0)
    ledger.delivered(member, "m", 1, 3.0)
    ledger.delivered(member, "m", 1, 9.0)
    summary = ledger.summary(0.0, 10.0)
    assert (summary["received"], summary["duplicates"], summary["lost"]) == (2, 1, 0)
    assert summary["latency_ms"]["max"] == 3.0  # a duplicate's latency is not a delivery's


def test_rates_errors_and_latency_percentiles() -> None:
    ledger = Ledger()
    member = ledger.joined("r", 0.0)
    for n in range(100):
        ledger.sent("r", f"m{n}", n / 10)
        ledger.delivered(member, f"m{n}", n + 1, float(n + 1))
    ledger.error("connect")
    ledger.error("connect")
    summary = ledger.summary(0.0, 10.0)
    assert (summary["sent_per_s"], summary["received_per_s"]) == (10.0, 10.0)
    assert summary["latency_ms"] == {"p50": 50.0, "p95": 95.0, "p99": 99.0, "max": 100.0}
    assert (summary["errors"], summary["errors_by_kind"]) == (2, {"connect": 2})


def test_sends_must_be_recorded_in_time_order() -> None:
    ledger = Ledger()
    ledger.sent("r", "m1", 2.0)
    with pytest.raises(ValueError, match="time order"):
        ledger.sent("r", "m0", 1.0)


def test_percentile_is_nearest_rank_and_none_when_empty() -> None:
    assert percentile([], 50) is None
    assert percentile([1.0], 99) == 1.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 51) == 3.0
