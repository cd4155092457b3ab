"""Benchmark 4: memory - the RSS of `switchboard serve` holding N idle connections, per connection.

For each contender (`serve` with the memory store, and the floor server beside it): start it,
warm it (one client connects, broadcasts once and leaves, so lazy imports and the handler's
clients are already built), read VmRSS from /proc, connect N idle clients from client
processes (loadtests/broadcast_clients.py, no pings), wait for the server to settle, read
VmRSS again. Per connection = (after - before) / N. Writes "Benchmark 4: memory" to
loadtests/RESULTS.md. Loopback only, bounded in time.

    .venv/bin/python loadtests/bench_memory.py [--n 10000] [--contenders lean,floor]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass

from client_processes import ClientProcesses, Connected
from contenders import CONTENDERS, Contender, Server, running
from floor_server import raise_open_files_limit
from results import machine_line, publish, time_limit
from websockets.sync.client import connect

IN_FLIGHT = 100
CLIENTS_PER_PROCESS = 5000
SETTLE_S = 3.0  # after the last handshake: $connect calls and log lines finish
RUN_LIMIT_S = 1200


@dataclass(frozen=True)
class Reading:
    contender: str
    before_kib: int
    after_kib: int
    connected: Connected

    @property
    def per_connection_kib(self) -> float:
        return (self.after_kib - self.before_kib) / max(1, self.connected.ok)


def measure(contender: Contender, n: int) -> Reading:
    with running(contender) as server:
        _warm(server)
        time.sleep(SETTLE_S)
        before = server.rss_kib()
        processes = max(1, -(-n // CLIENTS_PER_PROCESS))
        with ClientProcesses(server.url, n, processes, IN_FLIGHT) as clients:
            connected = clients.connect(timeout=60.0 + n / 20)
            time.sleep(SETTLE_S)
            after = server.rss_kib()
    return Reading(contender.name, before, after, connected)


def _warm(server: Server) -> None:
    with connect(server.url, compression=None, open_timeout=30, close_timeout=2) as client:
        client.send("warm-up")
        client.recv(timeout=30)  # its own copy: the broadcast path has run once


def report(readings: list[Reading], n: int) -> str:
    rows = [
        "| server | connected (errors) | RSS before, MiB | RSS with the clients, MiB "
        "| per connection, KiB |",
        "|---|---|---|---|---|",
    ]
    for r in readings:
        rows.append(
            f"| {r.contender} | {r.connected.ok:,} ({r.connected.errors}) "
            f"| {r.before_kib / 1024:.1f} | {r.after_kib / 1024:.1f} "
            f"| {r.per_connection_kib:.1f} |"
        )
    floor = next((r for r in readings if r.contender.startswith("floor")), None)
    ratios = [
        f"{r.contender}: {r.per_connection_kib / floor.per_connection_kib:.1f}x the floor "
        "per connection"
        for r in readings
        if floor and r is not floor and floor.per_connection_kib > 0
    ]
    notes = (
        f"{n:,} idle clients (no pings, no messages) in client processes of up to "
        f"{CLIENTS_PER_PROCESS:,}, {IN_FLIGHT} handshakes in flight; VmRSS of the server "
        f"process read from /proc {SETTLE_S:.0f} s after a warm-up broadcast (before) and "
        f"{SETTLE_S:.0f} s after the last handshake (after). `serve` runs with the memory "
        "store, so its figure includes the store's records."
    )
    errors = sorted({s for r in readings for s in r.connected.error_samples})
    extra = ("\n\nConnect errors seen: " + "; ".join(errors[:5])) if errors else ""
    return f"{notes}\n\n" + "\n".join(rows) + "\n\n" + "; ".join(ratios) + "." + extra


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="idle connections to hold")
    parser.add_argument("--contenders", default="inprocess,floor", help=", ".join(CONTENDERS))
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md")
    args = parser.parse_args()
    keys = args.contenders.split(",")
    if args.n < 1 or set(keys) - set(CONTENDERS):
        parser.error(f"--n must be positive and --contenders among {', '.join(CONTENDERS)}")
    raise_open_files_limit()
    readings = []
    with time_limit(RUN_LIMIT_S):
        for key in keys:
            print(f"{CONTENDERS[key].name}: {args.n:,} idle connections...", flush=True)
            readings.append(measure(CONTENDERS[key], args.n))
    body = f"{machine_line()}\n\n{report(readings, args.n)}"
    publish("Benchmark 4: memory", body, write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
