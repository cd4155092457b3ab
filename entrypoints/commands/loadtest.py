"""`switchboard loadtest`: locust, headless and bounded, against a local gateway or a wss:// stage.

Locust runs in its own process (it monkey-patches the standard library with gevent, which
breaks boto3 and requests in a process that imported them first): this module never imports
locust or the locustfile. Without --host it starts `switchboard serve` on a free loopback port.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from entrypoints.commands.loadtest_gateway import GatewayError, local_gateway
from entrypoints.commands.token import duration

HELP = "load test with locust (headless, bounded): a local gateway it starts, or a wss:// stage"
ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILE = ROOT / "loadtests" / "locustfile.py"
SCENARIOS = {
    "chat": "ChatUser",
    "storm": "StormUser",
    "churn": "ChurnUser",
    "recovery": "RecoveryUser",
}
PCTS = ("p50", "p95", "p99")
# Past locust's -t: start-up, the end-of-run drain (--grace) and writing the reports.
SLACK_S = 60


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--users", type=int, default=50, help="concurrent WebSocket users (default: 50)")
    add("--spawn-rate", type=float, default=10.0, help="users started per second (default: 10)")
    add("--duration", type=duration, default=60, help="how long to send, e.g. 60s (default)")
    add("--scenario", choices=sorted(SCENARIOS), default="chat", help="what users do (chat)")
    add("--host", help="a deployed stage's wss:// URL, stage path included (default: start a "
        "local gateway); its authorizer's token goes in $SWITCHBOARD_TOKEN")  # fmt: skip
    add("--results", type=Path, default=ROOT / "loadtests" / "results", help="reports go here")
    add("--room-size", type=int, help="members per room (default: 10; storm 100)")
    add("--send-interval", type=float, help="mean seconds between one sender's messages")
    add("--grace", type=float, default=5.0, help="seconds to wait for messages at the end (5)")


def check_host(url: str) -> str | None:
    """Why `url` may not be load tested from here, or None: ws:// on loopback, or wss://."""
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        return f"--host {url!r}: give a ws:// or wss:// URL, e.g. wss://abc123.execute-api.eu-west-1.amazonaws.com/prod"
    if parts.path.strip("/") == "":
        return f"--host {url!r}: include the stage path (e.g. .../prod)"
    if parts.scheme == "wss":
        return None  # a deployed stage: API Gateway serves TLS only
    try:
        loopback = parts.hostname == "localhost" or ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        return f"--host {url!r}: plain ws:// is for a local gateway on loopback; a stage is wss://"
    return None


def check_numbers(args: argparse.Namespace) -> str | None:
    if args.users < 1 or args.spawn_rate <= 0:
        return "--users must be at least 1 and --spawn-rate positive"
    if (args.room_size is not None and args.room_size < 1) or args.grace < 0:
        return "--room-size must be at least 1 and --grace not negative"
    if args.send_interval is not None and args.send_interval <= 0:
        return "--send-interval must be positive"
    return None


def run(args: argparse.Namespace) -> int:
    problem = check_numbers(args) or (check_host(args.host) if args.host else None)
    if problem:
        print(f"switchboard loadtest: {problem}", file=sys.stderr)
        return 2
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = args.results / f"{stamp}-{args.scenario}"
    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        if args.host:
            code = _locust(args, args.host, run_dir)
        else:
            with local_gateway(run_dir / "gateway.log") as url:
                code = _locust(args, url, run_dir)
    except (GatewayError, subprocess.TimeoutExpired) as exc:
        print(f"switchboard loadtest: {exc} (logs in {run_dir})", file=sys.stderr)
        return 1
    summary_path = run_dir / "summary.json"
    if not summary_path.exists():
        print(f"switchboard loadtest: locust wrote no summary; see {run_dir / 'locust.log'}")
        return 1
    summary = json.loads(summary_path.read_text())
    summary |= {"scenario": args.scenario, "spawn_rate": args.spawn_rate,
                "target": "local gateway" if not args.host else urlsplit(args.host).hostname,
                "locust_exit_code": code, "results": str(run_dir)}  # fmt: skip
    summary_path.write_text(json.dumps(summary, indent=2) + "\n")
    print(format_summary(summary))
    print(f"Reports (HTML, CSV, logs): {run_dir}")
    return 0 if code == 0 and summary["errors"] == 0 and summary["lost"] == 0 else 1


def _locust(args: argparse.Namespace, url: str, run_dir: Path) -> int:
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--only-summary",
        "-u", str(args.users), "-r", str(args.spawn_rate), "-t", f"{args.duration}s",
        "--host", url, "--csv", str(run_dir / "locust"), "--html", str(run_dir / "report.html"),
        "--summary-json", str(run_dir / "summary.json"), "--grace", str(args.grace),
    ]  # fmt: skip
    if args.room_size is not None:
        command += ["--room-size", str(args.room_size)]
    if args.send_interval is not None:
        command += ["--send-interval", str(args.send_interval)]
    command.append(SCENARIOS[args.scenario])
    print(f"locust: {args.users} {args.scenario} users against {url} for {args.duration}s")
    with (run_dir / "locust.log").open("wb") as log:
        # The hard bound: subprocess.run kills locust if it outlives -t by SLACK_S.
        done = subprocess.run(
            command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
            timeout=args.duration + args.grace + SLACK_S, check=False,
        )  # fmt: skip
    return done.returncode


def format_summary(summary: dict[str, Any]) -> str:
    """The run as a Markdown table (what RESULTS.md records), then the delivery counts."""
    latency = summary["latency_ms"]
    ms = [("-" if latency[p] is None else f"{latency[p]:.0f}") for p in PCTS]
    rows = [
        "| scenario | users | sent/s | delivered/s | latency p50 / p95 / p99 ms | errors | lost |",
        "|---|---|---|---|---|---|---|",
        f"| {summary.get('scenario', '?')} | {summary['users']} | {summary['sent_per_s']} | "
        f"{summary['received_per_s']} | {' / '.join(ms)} | {summary['errors']} | "
        f"{summary['lost']} |",
        "",
        f"sent {summary['sent']}, expected deliveries {summary['expected']}, "
        f"received {summary['received']}, lost {summary['lost']}, "
        f"duplicates {summary['duplicates']}, over {summary['seconds']} s",
    ]
    rejoins = summary.get("rejoins") or {}
    if sum(rejoins.values()):
        rejoin_ms = summary["rejoin_ms"]
        took = "/".join("-" if rejoin_ms[p] is None else f"{rejoin_ms[p]:.0f}" for p in PCTS)
        rows.append(
            f"rejoins {sum(rejoins.values())} (recovered {rejoins['recovered']}, not "
            f"{rejoins['not_recovered']}), rejoin p50/p95/p99 {took} ms, replayed "
            f"{summary['replayed']}, unrecoverable {summary['unrecoverable']}"
        )
    if summary["errors"]:
        rows.append(f"errors: {json.dumps(summary['errors_by_kind'])}")
    if summary["lost_sample"]:
        rows.append(f"lost (first ones): {', '.join(summary['lost_sample'])}")
    return "\n".join(rows)
