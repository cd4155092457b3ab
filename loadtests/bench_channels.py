"""What channels cost: the handler time a room message adds, and the time to replay 100 missed
messages to one client; side by side with a baseline checkout (the code before channels).

Handler time: `serve` (memory store, or DynamoDB in its embedded moto) with MESSAGE_RATE=0, a
room of MEMBERS clients, one of them sends MESSAGES room messages one at a time (each waits
for its own copy); the handler's own `duration_ms` of each sendmessage, from its invocation
log line. Baseline and channels run alternately, a fresh server per rep; medians over reps.
Replay: a writer sends 100 messages to a room, then a new client joins with `since: 0`; the
time from its join to the 100th replayed message, next to a plain join on the same server.
Writes the section "Channels: handler time and replay" of loadtests/RESULTS.md. Loopback only,
bounded in count and time.

    git worktree add /tmp/baseline <commit before channels>
    .venv/bin/python loadtests/bench_channels.py --baseline /tmp/baseline [--reps 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from contenders import ROOT, Contender, Server, running
from results import machine_line, publish, time_limit
from websockets.sync.client import ClientConnection, connect

MEMBERS = 10
MESSAGES = 200
REPLAY = 100
RUN_LIMIT_S = 1800
QUIET = (("MESSAGE_RATE", "0"),)  # the budget is the same in both; left out of the figure


@dataclass
class Figures:
    durations: list[float] = field(default_factory=list)  # handler ms per room message
    rep_medians: list[float] = field(default_factory=list)
    replay_ms: list[float] = field(default_factory=list)
    join_ms: list[float] = field(default_factory=list)


def open_client(url: str) -> ClientConnection:
    return connect(url, open_timeout=60, close_timeout=2, ping_interval=None)


def ask(ws: ClientConnection, **fields: object) -> None:
    ws.send(json.dumps(fields))


def until(ws: ClientConnection, kind: str) -> dict[str, object]:
    """The next frame of type `kind` (presence events and others are skipped); raw text counts
    as a message (the baseline's room messages are the data itself)."""
    while True:
        text = str(ws.recv(timeout=30))
        frame = json.loads(text) if text.startswith('{"type"') else {"type": "message"}
        if frame["type"] == kind:
            return frame


def room_messages(server: Server, tag: str) -> list[float]:
    with ExitStack() as stack:
        members = [stack.enter_context(open_client(server.url)) for _ in range(MEMBERS)]
        for ws in members:
            ask(ws, action="join", room=tag)
            until(ws, "joined")
        sender = members[0]
        for n in range(MESSAGES):
            ask(sender, action="sendmessage", room=tag, data=f"message {n}")
            until(sender, "message")
    deadline = time.monotonic() + 30
    while True:  # the last invocation's line is written after its posts: wait for it
        lines = [json.loads(x) for x in server.output_lines() if '"invocation"' in x]
        sends = [x["duration_ms"] for x in lines if x.get("command") == "sendmessage"]
        if len(sends) >= MESSAGES or time.monotonic() > deadline:
            return [float(d) for d in sends[:MESSAGES]]
        time.sleep(0.1)


def replay(server: Server) -> tuple[float, float]:
    """ms from a join with since 0 to the last of 100 replayed messages; ms of a plain join."""
    with open_client(server.url) as writer:
        ask(writer, action="join", room="replay")
        until(writer, "joined")
        for n in range(REPLAY):
            ask(writer, action="sendmessage", room="replay", data={"n": n, "text": "x" * 100})
            until(writer, "message")
    with open_client(server.url) as back:
        started = time.perf_counter()
        ask(back, action="join", room="replay", since=0)
        joined = until(back, "joined")
        assert joined.get("recovered") is True, joined
        seqs = [until(back, "message")["seq"] for _ in range(REPLAY)]
        replayed = (time.perf_counter() - started) * 1000
        assert seqs == list(range(1, REPLAY + 1)), seqs
        return replayed, plain_join(back)


def plain_join(ws: ClientConnection) -> float:
    started = time.perf_counter()
    ask(ws, action="join", room="plain")
    until(ws, "joined")
    return (time.perf_counter() - started) * 1000


def contenders(baseline: Path, store: str) -> dict[str, Contender]:
    args = ("--store", store)
    return {
        "before": Contender("before", "lean", True, args, QUIET, root=baseline),
        "channels": Contender("channels", "lean", True, args, QUIET),
    }


def run(baseline: Path, reps: int) -> dict[tuple[str, str], Figures]:
    figures: dict[tuple[str, str], Figures] = {}
    for store in ("memory", "dynamodb"):
        for rep in range(reps):
            for name, contender in contenders(baseline, store).items():
                got = figures.setdefault((store, name), Figures())
                with running(contender) as server:
                    durations = room_messages(server, f"bench{rep}")
                    got.durations += durations
                    got.rep_medians.append(statistics.median(durations))
                    if name == "channels":
                        replayed, joined = replay(server)
                        got.replay_ms.append(replayed)
                        got.join_ms.append(joined)
                    else:
                        with open_client(server.url) as ws:
                            got.join_ms.append(plain_join(ws))
                print(f"{store} {name} rep {rep + 1}: {got.rep_medians[-1]:.2f} ms")
    return figures


def section(figures: dict[tuple[str, str], Figures], baseline: str, reps: int) -> str:
    def q(values: list[float], n: int) -> float:
        return statistics.quantiles(values, n=100)[n - 1]

    lines = [
        f"{machine_line()}\n",
        f"Baseline: {baseline}, run alternately with this checkout, a fresh `serve` per rep, "
        f"{reps} reps. Handler time: the handler's own `duration_ms` of each of {MESSAGES} room "
        "messages per rep (percentiles over all reps' messages), sent one at a time to a room "
        f"of {MEMBERS} (MESSAGE_RATE=0: the budget, the same in both, is left out); DynamoDB "
        "is serve's embedded moto (no network latency: on AWS each extra call adds a round "
        "trip of a few ms).\n",
        "| store | handler ms per room message, before: p50 / p90 | channels: p50 / p90 "
        "| added, p50 | ratio, p50 | ratio per rep (each rep's medians) |",
        "|---|---|---|---|---|---|",
    ]
    for store in ("memory", "dynamodb"):
        before, after = figures[(store, "before")].durations, figures[(store, "channels")].durations
        b50, a50 = statistics.median(before), statistics.median(after)
        lines.append(
            f"| {store} | {b50:.2f} / {q(before, 90):.2f} | {a50:.2f} / {q(after, 90):.2f} "
            f"| {a50 - b50:+.2f} | {a50 / b50:.2f}x | {per_rep(figures, store)} |"
        )
    lines += [
        "",
        f"Replay: {REPLAY} messages of ~130 bytes sent to a room, then a new client joins with "
        f'`"since": 0`: time from its join to the last replayed message (all {REPLAY} in order, '
        "after `joined` with `recovered: true`), client side; a plain join on the same server "
        "for scale. Medians over reps.\n",
        f"| store | replay of {REPLAY}, ms | plain join, ms (channels) | plain join, ms (before) |",
        "|---|---|---|---|",
    ]
    for store in ("memory", "dynamodb"):
        now, then = figures[(store, "channels")], figures[(store, "before")]
        lines.append(
            f"| {store} | {statistics.median(now.replay_ms):.1f} "
            f"| {statistics.median(now.join_ms):.1f} | {statistics.median(then.join_ms):.1f} |"
        )
    return "\n".join(lines)


def per_rep(figures: dict[tuple[str, str], Figures], store: str) -> str:
    before, after = figures[(store, "before")], figures[(store, "channels")]
    ratios = [a / b for a, b in zip(after.rep_medians, before.rep_medians, strict=True)]
    return ", ".join(f"{r:.2f}x" for r in ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="checkout before channels")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    options = parser.parse_args()
    commit = subprocess.run(
        ["git", "-C", str(options.baseline), "log", "-1", "--format=%h"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert options.baseline.resolve() != ROOT, "the baseline must be another checkout"
    with time_limit(RUN_LIMIT_S):
        figures = run(options.baseline.resolve(), options.reps)
    body = section(figures, f"commit {commit} (before channels)", options.reps)
    publish("Channels: handler time and replay", body, write=not options.no_write)


if __name__ == "__main__":
    main()
