"""Load tests (locust): a run of each scenario via `switchboard loadtest`, recorded in RESULTS.md.

Each scenario runs at the user count given (the most this machine held without errors or lost
messages: find it with shorter runs first), against a local gateway the command starts.
Recovery has a section of its own (rejoins, replays, what could not be recovered):

    .venv/bin/python loadtests/bench_locust.py --duration 60s --chat 250 --storm 400 --churn 300
    .venv/bin/python loadtests/bench_locust.py --duration 30s --recovery 150
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from results import machine_line, write_section

ROOT = Path(__file__).resolve().parent.parent
TITLE = "Load tests (locust)"
RECOVERY_TITLE = "Recovery"
SCENARIOS = ("chat", "storm", "churn")


def run_scenario(scenario: str, users: int, duration: str, spawn_rate: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as scratch:
        command = [
            sys.executable, "-m", "entrypoints.cli", "loadtest", "--scenario", scenario,
            "--users", str(users), "--spawn-rate", str(spawn_rate), "--duration", duration,
            "--results", scratch,
        ]  # fmt: skip
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        print(done.stdout, done.stderr, sep="\n", flush=True)
        summaries = list(Path(scratch).glob("*/summary.json"))
        if not summaries:
            raise SystemExit(f"{scenario}: no summary (exit {done.returncode})")
        summary: dict[str, object] = json.loads(summaries[0].read_text())
        return summary


def row(summary: dict[str, object]) -> str:
    latency = summary["latency_ms"]
    assert isinstance(latency, dict)
    ms = " / ".join(
        "-" if latency[p] is None else f"{latency[p]:.0f}" for p in ("p50", "p95", "p99")
    )
    return (
        f"| {summary['scenario']} | {summary['users']} | {summary['seconds']:.0f} | "
        f"{summary['sent_per_s']} | {summary['received_per_s']} | {ms} | "
        f"{summary['sent']} / {summary['expected']} / {summary['received']} | "
        f"{summary['errors']} | {summary['lost']} |"
    )


def _ms(figures: object) -> str:
    assert isinstance(figures, dict)
    return " / ".join(
        "-" if figures[p] is None else f"{figures[p]:.0f}" for p in ("p50", "p95", "p99")
    )


def recovery_section(summary: dict[str, object], duration: str, spawn_rate: int, note: str) -> str:
    rejoins = summary["rejoins"]
    assert isinstance(rejoins, dict)
    return "\n".join(
        [
            machine_line(),
            "",
            "`switchboard loadtest --scenario recovery` against the local gateway it starts",
            f"(memory store, loopback), locust single-process on the same machine, {spawn_rate}",
            "users/s. Rooms of 10, everyone sends every 1-3 s; after 3-8 s online a member's",
            "socket drops without a close frame, stays away 0.5-3 s while the room sends on, then",
            "reconnects and joins with since = the highest seq up to which it has everything.",
            "Rejoin: connect to joined. Lost: sent to the room from the member's first join to the",
            "end of sending (away time included), received neither live nor in a replay within",
            "5 s of the end; unrecoverable: in the gap of a joined with recovered:false.",
            "Reproduce:",
            f"`.venv/bin/python loadtests/bench_locust.py --duration {duration} "
            f"--spawn-rate {spawn_rate} --recovery {summary['users']}`.",
            "",
            "| users | s | sent/s | delivered/s | latency p50 / p95 / p99 ms "
            "| rejoins (recovered / not) | rejoin p50 / p95 / p99 ms | replayed | duplicates "
            "| unrecoverable | errors | lost |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
            f"| {summary['users']} | {summary['seconds']:.0f} | {summary['sent_per_s']} | "
            f"{summary['received_per_s']} | {_ms(summary['latency_ms'])} | "
            f"{rejoins['recovered']} / {rejoins['not_recovered']} | {_ms(summary['rejoin_ms'])} | "
            f"{summary['replayed']} | {summary['duplicates']} | {summary['unrecoverable']} | "
            f"{summary['errors']} | {summary['lost']} |",
            "",
            f"sent {summary['sent']}, expected deliveries {summary['expected']}, received "
            f"{summary['received']} (live and replayed, duplicates included).",
            *(["", note] if note else []),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", default="60s")
    parser.add_argument("--spawn-rate", type=int, default=100)
    parser.add_argument("--note", default="", help="a line for under the table (e.g. the ceiling)")
    for scenario in (*SCENARIOS, "recovery"):
        parser.add_argument(f"--{scenario}", type=int, metavar="USERS", help=f"{scenario} users")
    args = parser.parse_args()
    chosen = [(s, getattr(args, s)) for s in SCENARIOS if getattr(args, s)]
    if not chosen and not args.recovery:
        parser.error("give at least one of --chat, --storm, --churn, --recovery with a user count")
    if args.recovery:
        summary = run_scenario("recovery", args.recovery, args.duration, args.spawn_rate)
        section = recovery_section(summary, args.duration, args.spawn_rate, args.note)
        write_section(RECOVERY_TITLE, section)
        print(section)
    if not chosen:
        return
    rows = [row(run_scenario(s, users, args.duration, args.spawn_rate)) for s, users in chosen]
    body = "\n".join(
        [
            machine_line(),
            "",
            "`switchboard loadtest` against the local gateway it starts (memory store), locust",
            f"single-process on the same machine, {args.spawn_rate} users/s spawn rate. Scenarios:",
            "chat = rooms of 10, everyone sends every 1.5-4.5 s; storm = rooms of 100, one sender",
            "at ~2 msg/s, 99 receivers; churn = rooms of 10, visits of 2-10 s (plus a 5 s drain)",
            "sending every 1-3 s, then leave and close, again. Latency: send to receive, every",
            "receiver, one clock. Lost: sent while the receiver was a member, not received within",
            "5 s of the end of sending.",
            "",
            "| scenario | users | s | sent/s | delivered/s | latency p50 / p95 / p99 ms "
            "| sent / expected / received | errors | lost |",
            "|---|---|---|---|---|---|---|---|---|",
            *rows,
            *(["", args.note] if args.note else []),
        ]
    )
    write_section(TITLE, body)
    print(body)


if __name__ == "__main__":
    main()
