"""`switchboard loadtest`: which hosts it accepts, what it refuses, and the table it prints."""

from __future__ import annotations

import argparse

import pytest

from entrypoints.commands import loadtest as loadtest_command
from entrypoints.commands.loadtest import check_host, format_summary


@pytest.mark.parametrize(
    "url",
    [
        "ws://127.0.0.1:8080/dev",
        "ws://localhost:8080/dev",
        "ws://[::1]:8080/dev",
        "wss://abc123.execute-api.eu-west-1.amazonaws.com/prod",
        "wss://chat.example.com/prod?token=x",
    ],
)
def test_loopback_gateways_and_wss_stages_are_accepted(url: str) -> None:
    assert check_host(url) is None


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ws://10.0.0.1:8080/dev", "loopback"),
        ("ws://example.com/dev", "loopback"),
        ("https://abc123.execute-api.eu-west-1.amazonaws.com/prod", "ws:// or wss://"),
        ("abc123.execute-api.eu-west-1.amazonaws.com/prod", "ws:// or wss://"),
        ("wss://abc123.execute-api.eu-west-1.amazonaws.com", "stage path"),
        ("ws://127.0.0.1:8080/", "stage path"),
    ],
)
def test_other_hosts_are_refused_with_a_reason(url: str, says: str) -> None:
    problem = check_host(url)
    assert problem is not None and says in problem


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    loadtest_command.add_arguments(parser)
    return parser.parse_args(argv)


def test_defaults_and_durations_parse() -> None:
    args = _args("--duration", "2m", "--scenario", "storm")
    assert (args.users, args.duration, args.scenario, args.host) == (50, 120, "storm", None)


@pytest.mark.parametrize(
    "argv", [("--users", "0"), ("--spawn-rate", "0"), ("--room-size", "0"), ("--grace", "-1")]
)
def test_bad_numbers_are_refused_before_anything_starts(
    argv: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    assert loadtest_command.run(_args(*argv)) == 2
    assert "switchboard loadtest:" in capsys.readouterr().err


def test_a_bad_host_is_refused_before_anything_starts(capsys: pytest.CaptureFixture[str]) -> None:
    assert loadtest_command.run(_args("--host", "ws://192.168.1.5/dev")) == 2
    assert "loopback" in capsys.readouterr().err


def test_the_summary_table_has_the_figures_that_matter() -> None:
    summary = {
        "scenario": "chat", "users": 500, "sent_per_s": 160.2, "received_per_s": 1601.9,
        "latency_ms": {"p50": 12.3, "p95": 80.6, "p99": 150.0, "max": 300.0},
        "errors": 2, "errors_by_kind": {"connect": 2}, "lost": 3, "lost_sample": ["r/m1"],
        "sent": 9600, "expected": 96000, "received": 95997, "duplicates": 0, "seconds": 60.0,
    }  # fmt: skip
    text = format_summary(summary)
    assert "| chat | 500 | 160.2 | 1601.9 | 12 / 81 / 150 | 2 | 3 |" in text
    assert "expected deliveries 96000, received 95997, lost 3" in text
    assert '{"connect": 2}' in text and "r/m1" in text


def test_a_recovery_run_adds_its_rejoins_replays_and_unrecoverable_messages() -> None:
    summary = {
        "scenario": "recovery", "users": 150, "sent_per_s": 43.0, "received_per_s": 430.0,
        "latency_ms": {"p50": 2.0, "p95": 6.0, "p99": 44.0, "max": 90.0},
        "errors": 0, "errors_by_kind": {}, "lost": 0, "lost_sample": [], "sent": 1300,
        "expected": 13000, "received": 13000, "duplicates": 2, "seconds": 30.0,
        "rejoins": {"recovered": 480, "not_recovered": 2}, "replayed": 1900,
        "rejoin_ms": {"p50": 4.0, "p95": 8.0, "p99": 12.0, "max": 20.0}, "unrecoverable": 7,
    }  # fmt: skip
    text = format_summary(summary)
    assert "rejoins 482 (recovered 480, not 2), rejoin p50/p95/p99 4/8/12 ms" in text
    assert "replayed 1900, unrecoverable 7" in text
    assert "rejoins" not in format_summary(
        summary | {"rejoins": {"recovered": 0, "not_recovered": 0}}
    )
