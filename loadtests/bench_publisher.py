"""Benchmark 1: posts/s and client CPU per post, lean publisher against boto3 and the floor.

Long: four contenders share one harness, run side by side in one process.

Posts PAYLOAD (100 bytes) to N distinct ids on a local sink (loadtests/sink_server.py, its own
process, so it does not share this one's GIL) that answers 200 at once. Every contender
gets one warm-up run, then RUNS timed runs; the table shows medians. CPU is this process's
time.process_time() (all its threads). Nothing leaves 127.0.0.1; credentials are fake.

    .venv/bin/python loadtests/bench_publisher.py [--n 2000] [--runs 5] [--concurrency 32]

On a machine shared with other jobs, `nice -n -10` in front steadies the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from offline_aws import use_fake_credentials  # noqa: E402  (this script's folder)

use_fake_credentials()

import aiohttp  # noqa: E402
import boto3  # noqa: E402
import botocore.session  # noqa: E402
from results import machine_line, write_section  # noqa: E402  (this script's folder)

from adapters.apigateway.boto3_publisher import Boto3Publisher, management_client  # noqa: E402
from adapters.apigateway.lean_publisher import LeanPublisher  # noqa: E402
from domain.model import PostOutcome  # noqa: E402

PAYLOAD = b"x" * 100
REGION = "us-east-1"
TITLE = "Benchmark 1: publisher"

Run = Callable[[list[str]], int]  # posts to the ids, returns how many were delivered


@dataclass(frozen=True)
class Figures:
    name: str
    posts_per_s: float
    cpu_ms_per_post: float
    delivered_ok: bool


@contextmanager
def sink() -> Iterator[str]:
    """The sink in a child process; yields its endpoint."""
    child = subprocess.Popen(
        [sys.executable, str(ROOT / "loadtests" / "sink_server.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        yield f"http://127.0.0.1:{port}/bench"
    finally:
        assert child.stdin is not None
        child.stdin.close()  # the sink exits when its stdin closes
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()


def lean(endpoint: str, concurrency: int) -> tuple[Run, Callable[[], None]]:
    publisher = LeanPublisher(endpoint, REGION, concurrency, botocore.session.Session())
    return (lambda ids: _delivered(publisher.post(PAYLOAD, ids).values())), publisher.close


def boto3_publisher(endpoint: str, concurrency: int) -> tuple[Run, Callable[[], None]]:
    publisher = Boto3Publisher(management_client(endpoint, REGION, concurrency), concurrency)
    return (lambda ids: _delivered(publisher.post(PAYLOAD, ids).values())), publisher.close


def boto3_sequential(endpoint: str, concurrency: int) -> tuple[Run, Callable[[], None]]:
    """What Python tutorials do: one default client, a for loop."""
    client = boto3.client("apigatewaymanagementapi", endpoint_url=endpoint, region_name=REGION)

    def run(ids: list[str]) -> int:
        for connection_id in ids:
            client.post_to_connection(ConnectionId=connection_id, Data=PAYLOAD)
        return len(ids)

    return run, client.close


def aiohttp_floor(endpoint: str, concurrency: int) -> tuple[Run, Callable[[], None]]:
    """Unsigned POSTs, same pool and in-flight bound as the lean publisher: the floor."""
    loop = asyncio.new_event_loop()

    async def open_session() -> aiohttp.ClientSession:
        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=concurrency),
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
        )

    session = loop.run_until_complete(open_session())

    async def post_all(ids: list[str]) -> int:
        queue, delivered = iter(ids), 0

        async def worker() -> None:
            nonlocal delivered
            for connection_id in queue:
                async with session.post(
                    f"{endpoint}/@connections/{connection_id}", data=PAYLOAD
                ) as response:
                    await response.read()
                    delivered += response.status == 200

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return delivered

    def close() -> None:
        loop.run_until_complete(session.close())
        loop.close()

    return (lambda ids: loop.run_until_complete(post_all(ids))), close


CONTENDERS = {
    "lean publisher": lean,
    "boto3 publisher": boto3_publisher,
    "boto3 sequential loop": boto3_sequential,
    "unsigned aiohttp (floor)": aiohttp_floor,
}


def _delivered(outcomes: Iterable[PostOutcome]) -> int:
    return sum(1 for outcome in outcomes if outcome is PostOutcome.DELIVERED)


def measure(runners: dict[str, Run], ids: list[str], runs: int, deadline: float) -> list[Figures]:
    """Round-robin: run i of every contender before run i+1 of any, so that a noisy
    neighbour (2 shared cores) slows them all alike instead of one contender's runs."""
    for run in runners.values():
        run(ids)  # warm-up: connections opened, imports and caches loaded
    rates: dict[str, list[float]] = {name: [] for name in runners}
    cpus: dict[str, list[float]] = {name: [] for name in runners}
    ok = dict.fromkeys(runners, True)
    names = list(runners)
    for round_ in range(runs):
        if time.monotonic() > deadline:
            print(f"time budget spent after {round_} runs", file=sys.stderr)
            break
        for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
            wall, cpu = time.perf_counter(), time.process_time()
            delivered = runners[name](ids)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            ok[name] = ok[name] and delivered == len(ids)
            rates[name].append(len(ids) / wall)
            cpus[name].append(cpu * 1000 / len(ids))
    return [
        Figures(name, statistics.median(rates[name]), statistics.median(cpus[name]), ok[name])
        for name in names
        if rates[name]
    ]


def raise_open_files(wanted: int = 65536) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def table(figures: list[Figures], n: int, runs: int, concurrency: int, load: float) -> str:
    """The section's body: setup, one row per contender, the ratios against the targets."""
    lines = [
        machine_line(),
        f"boto3 {boto3.__version__}, aiohttp {aiohttp.__version__}. {n} posts of "
        f"{len(PAYLOAD)} bytes to distinct ids per run, {concurrency} in flight, sink in its "
        f"own process answering 200; median of {runs} round-robin runs after a warm-up. "
        f"Load average at start: {load:.1f} (other jobs on the machine move posts/s more "
        "than CPU per post).",
        "",
        "| contender | posts/s | CPU ms/post | all delivered |",
        "|---|---:|---:|---|",
    ]
    lines += [
        f"| {f.name} | {f.posts_per_s:,.0f} | {f.cpu_ms_per_post:.3f} | "
        f"{'yes' if f.delivered_ok else 'NO'} |"
        for f in figures
    ]
    by_name = {f.name: f for f in figures}
    lean_f = by_name.get("lean publisher")
    lines.append("")
    for other, target in (("boto3 publisher", 4.0), ("unsigned aiohttp (floor)", 0.5)):
        if lean_f and other in by_name:
            rate = lean_f.posts_per_s / by_name[other].posts_per_s
            cpu = by_name[other].cpu_ms_per_post / lean_f.cpu_ms_per_post
            verdict = "met" if rate >= target else "MISSED"
            lines.append(
                f"- lean / {other}: {rate:.2f}x the posts/s (target >= {target:g}x: {verdict}); "
                f"{cpu:.2f}x by CPU per post"
            )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="distinct ids per run")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=32, help="posts in flight")
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(CONTENDERS),
        help="run only these contenders (repeatable)",
    )
    parser.add_argument("--max-seconds", type=float, default=300, help="time budget in all")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    if args.n < 1 or args.runs < 1 or args.concurrency < 1:
        parser.error("--n, --runs and --concurrency must be at least 1")
    raise_open_files()
    load = os.getloadavg()[0]
    deadline = time.monotonic() + args.max_seconds
    ids = [f"bench{i:06d}=" for i in range(args.n)]  # base64-like: '=' travels as %3D
    with sink() as endpoint, ExitStack() as closing:
        runners: dict[str, Run] = {}
        for name in args.only or CONTENDERS:
            runners[name], close = CONTENDERS[name](endpoint, args.concurrency)
            closing.callback(close)
        figures = measure(runners, ids, args.runs, deadline)
    body = table(figures, args.n, args.runs, args.concurrency, load)
    print(body)
    if not args.no_write:
        write_section(TITLE, body)
    return 0 if all(f.delivered_ok for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
