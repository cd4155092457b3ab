"""What a connect costs `switchboard serve`: connect rate and server CPU per handshake.

Benchmark 2's connect phase alone, for variants of `serve` that take parts away: the app's
handler with 32 worker threads (the default) or one, with Powertools' log lines and metrics
off, a handler that does nothing, and the floor server. N clients in 2 processes, 100
handshakes in flight (loadtests/broadcast_clients.py), after one client connected first (so
the handler's cold start is not counted); a fresh server per rep, median of REPS. Server CPU
is user + system time of its process over the connect phase, divided by N. Writes the section
"Benchmark 2: connects" of loadtests/RESULTS.md. Loopback only, bounded in time.

    .venv/bin/python loadtests/bench_connect.py [--n 1000] [--reps 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import dataclass

from client_processes import ClientProcesses
from contenders import FLOOR, ROOT, Contender, running
from floor_server import raise_open_files_limit
from machine_load import process_cpu_split
from results import machine_line, publish, time_limit
from websockets.sync.client import connect

IN_FLIGHT = 100
PROCESSES = 2
RUN_LIMIT_S = 1800
QUIET = (("POWERTOOLS_LOG_LEVEL", "ERROR"), ("POWERTOOLS_METRICS_DISABLED", "true"))
NOOP = ("--handler", "noop_handler:handler")
VARIANTS = [
    Contender("serve, app handler, 32 workers (default)", "lean", inprocess=True),
    Contender("serve, app handler, 1 worker", "lean", True, ("--workers", "1")),
    Contender("serve, app handler, no Powertools logs or metrics", "lean", True, env=QUIET),
    Contender(
        "serve, handler that only returns 200, 32 workers",
        "lean",
        True,
        NOOP,
        (("PYTHONPATH", str(ROOT / "loadtests")),),
    ),
    FLOOR,
]


@dataclass
class Rep:
    rate: float
    errors: int
    user_us: float
    system_us: float


def measure(contender: Contender, n: int) -> Rep:
    with (
        running(contender) as server,
        connect(server.url, compression=None, open_timeout=60, close_timeout=1),
        ClientProcesses(server.url, n, PROCESSES, IN_FLIGHT) as clients,
    ):
        user, system = process_cpu_split(server.pid)
        connected = clients.connect(timeout=120.0)
        user_after, system_after = process_cpu_split(server.pid)
    return Rep(
        connected.rate,
        connected.errors + n - connected.ok,
        (user_after - user) / n * 1e6,
        (system_after - system) / n * 1e6,
    )


def section(rows: list[tuple[str, list[Rep]]], n: int, reps: int) -> str:
    lines = [
        f"{machine_line()}\n",
        f"{n:,} clients in {PROCESSES} processes, {IN_FLIGHT} handshakes in flight, after one "
        f"client connected first; a fresh server per rep, median of {reps}. Server CPU: user + "
        "system time of the server process over the connect phase, per connect.\n",
        "| server | connects/s, median [min-max] | errors | server CPU per connect, us: "
        "user + system |",
        "|---|---|---|---|",
    ]
    for name, results in rows:
        rates = [r.rate for r in results]
        user = statistics.median(r.user_us for r in results)
        system = statistics.median(r.system_us for r in results)
        lines.append(
            f"| {name} | {statistics.median(rates):,.0f} [{min(rates):,.0f}-{max(rates):,.0f}]"
            f" | {sum(r.errors for r in results)} | {user:,.0f} + {system:,.0f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="clients")
    parser.add_argument("--reps", type=int, default=3, help="fresh servers per variant")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md")
    args = parser.parse_args()
    if args.n < 1 or args.reps < 1:
        parser.error("--n and --reps must be positive")
    raise_open_files_limit()
    rows = []
    with time_limit(RUN_LIMIT_S):
        for contender in VARIANTS:
            results = []
            for rep in range(args.reps):
                results.append(measure(contender, args.n))
                print(f"{contender.name}, rep {rep + 1}: {results[-1]}", flush=True)
            rows.append((contender.name, results))
    publish("Benchmark 2: connects", section(rows, args.n, args.reps), write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
