"""Where a broadcast's (and a connect's) time goes in `switchboard serve`: py-spy, from outside.

For each publisher (PUBLISHER=lean, PUBLISHER=boto3): `serve` with N clients (benchmark 2's
client processes; for the first publisher, py-spy records their N connects too), a warm-up
broadcast, then py-spy records the serve process (--gil: the thread holding the GIL, which is
what bounds a one-process server) while REPS broadcasts run one after another; a second
recording of as many broadcasts draws the flamegraph. Writes loadtests/profiles/
{broadcast,connect}-PUBLISHER.{txt,collapsed} and broadcast-PUBLISHER.svg, and the section
"Benchmark 2: profile" of loadtests/RESULTS.md. Loopback only, bounded in time.

    .venv/bin/python loadtests/profile_broadcast.py [--n 1000] [--reps 10] [--publishers lean,boto3]
"""

from __future__ import annotations

import argparse
import sys

from bench_broadcast import broadcast
from client_processes import ClientProcesses
from contenders import CONTENDERS, ROOT, running
from floor_server import raise_open_files_limit
from profile_summary import area_shares
from py_spy_recording import RATE_HZ, Recording, py_spy
from results import machine_line, publish, time_limit
from websockets.sync.client import connect

PROFILES = ROOT / "loadtests" / "profiles"
TOP_IN_RESULTS = 12
RUN_LIMIT_S = 1200


def profile(publisher: str, n: int, reps: int, connects_too: bool) -> dict[str, Recording]:
    """Record one publisher's broadcasts (and the connects before them)."""
    PROFILES.mkdir(exist_ok=True)
    casts = Recording(PROFILES / f"broadcast-{publisher}")
    connects = Recording(PROFILES / f"connect-{publisher}")
    with (
        running(CONTENDERS[publisher]) as server,
        ClientProcesses(server.url, n, 1, 100) as clients,
        # The sender connects first: the handler's cold start stays out of the connects.
        connect(server.url, compression=None, open_timeout=60, close_timeout=1) as sender,
    ):
        with py_spy(server, "raw", connects if connects_too else None):
            connected = clients.connect(timeout=120.0)
        if connected.ok != n:
            raise RuntimeError(f"{connected.ok} of {n} connected: {connected.error_samples}")
        broadcast(sender, clients, "warmup")
        for fmt, recording in (("raw", casts), ("flamegraph", Recording(casts.stem))):
            with py_spy(server, fmt, recording):
                for rep in range(reps):
                    arrivals = broadcast(sender, clients, f"{fmt}{rep}")
                    if arrivals.missing:
                        print(f"  {arrivals.missing} clients missed it", file=sys.stderr)
    recordings = {f"{reps} broadcasts to {n:,}, PUBLISHER={publisher}": casts}
    if connects_too:
        recordings[f"{n:,} connects, 100 in flight"] = connects
    for recording in recordings.values():
        recording.stem.with_suffix(".txt").write_text(recording.summary() + "\n")
    return recordings


def section(recordings: dict[str, Recording]) -> str:
    shares = {label: area_shares(r.collapsed()) for label, r in recordings.items()}
    areas = list(dict.fromkeys(area for s in shares.values() for area in s))
    rows = ["| where | " + " | ".join(shares) + " |", "|---|" + "---|" * len(shares)]
    cpu = " | ".join(
        f"{r.user_s:.2f} + {r.system_s:.2f} in {r.wall_s:.2f}" for r in recordings.values()
    )
    rows.append(f"| server CPU, s: user + system (kernel) in wall time | {cpu} |")
    for area in areas:
        cells = " | ".join(f"{s.get(area, 0):.1f}%" for s in shares.values())
        rows.append(f"| {area} | {cells} |")
    tops = []
    for label, recording in recordings.items():
        if "broadcast" not in label:
            continue
        text = recording.stem.with_suffix(".txt").read_text()
        top = text.split("Top 30 frames by own time:\n", 1)[1].splitlines()[:TOP_IN_RESULTS]
        tops.append(f"Top {TOP_IN_RESULTS} frames by own time, {label}:\n\n```\n")
        tops[-1] += "\n".join(top) + "\n```"
    return (
        f"{machine_line()}\n\n"
        f"py-spy {RATE_HZ} Hz, --gil (samples only the thread holding the GIL: the Python time "
        "that bounds a one-process server; kernel time in syscalls is not sampled), attached "
        "to `serve` from outside. Shares of samples, each given to the innermost frame that "
        "names an area. Full lists in `loadtests/profiles/*.txt`, flamegraphs of the "
        "broadcasts in `*.svg`.\n\n" + "\n".join(rows) + "\n\n" + "\n\n".join(tops)
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="clients")
    parser.add_argument("--reps", type=int, default=10, help="broadcasts per recording")
    parser.add_argument("--publishers", default="lean,boto3", help="lean, boto3")
    parser.add_argument("--no-write", action="store_true", help="leave RESULTS.md alone")
    args = parser.parse_args()
    publishers = args.publishers.split(",")
    if set(publishers) - {"lean", "boto3"} or args.n < 1 or args.reps < 1:
        parser.error("--publishers takes lean and/or boto3; --n and --reps must be positive")
    raise_open_files_limit()
    summaries: dict[str, Recording] = {}
    with time_limit(RUN_LIMIT_S, "the profile"):
        for publisher in publishers:
            print(f"profiling serve, PUBLISHER={publisher}...", flush=True)
            first = publisher == publishers[0]
            for label, recording in profile(publisher, args.n, args.reps, first).items():
                summaries[label] = recording
                print(f"{label}: {recording.summary()}", flush=True)
    publish("Benchmark 2: profile", section(summaries), write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
