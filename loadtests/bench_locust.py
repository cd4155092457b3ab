"""Load tests (locust): a run of each scenario via `switchboard loadtest`, recorded in RESULTS.md.

Each scenario runs at the user count given (the most this machine held without errors or lost
messages: find it with shorter runs first), against a local gateway the command starts.

    .venv/bin/python loadtests/bench_locust.py --duration 60s --chat 250 --storm 400 --churn 300
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", default="60s")
    parser.add_argument("--spawn-rate", type=int, default=100)
    parser.add_argument("--note", default="", help="a line for under the table (e.g. the ceiling)")
    for scenario in SCENARIOS:
        parser.add_argument(f"--{scenario}", type=int, metavar="USERS", help=f"{scenario} users")
    args = parser.parse_args()
    chosen = [(s, getattr(args, s)) for s in SCENARIOS if getattr(args, s)]
    if not chosen:
        parser.error("give at least one of --chat, --storm, --churn with a user count")
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
