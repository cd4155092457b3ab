"""Benchmark 1: posts/s and client CPU per post, lean publisher against boto3 and the floor.

Posts PAYLOAD (100 bytes) to N distinct ids on a local sink (loadtests/sink_server.py, its own
process, so it does not share this one's GIL) that answers 200 at once. Every contender
gets one warm-up run, then RUNS timed runs; the table shows medians. CPU is this process's
time.process_time() (all its threads). Nothing leaves 127.0.0.1; credentials are fake.

    .venv/bin/python loadtests/bench_publisher.py [--n 2000] [--runs 5] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                   "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
    os.environ[key] = value  # fake credentials, always: never sign with real ones here

import aiohttp  # noqa: E402
import boto3  # noqa: E402
import botocore.session  # noqa: E402

from adapters.apigateway_publisher import Boto3Publisher, management_client  # noqa: E402
from adapters.lean_publisher import LeanPublisher  # noqa: E402
from domain.model import PostOutcome  # noqa: E402

PAYLOAD = b"x" * 100
REGION = "us-east-1"
RESULTS = ROOT / "loadtests" / "RESULTS.md"
HEADING = "## Benchmark 1: publisher"

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
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
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
    publisher = LeanPublisher(endpoint, REGION, botocore.session.Session(), concurrency)
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
            cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
        )

    session = loop.run_until_complete(open_session())

    async def post_all(ids: list[str]) -> int:
        queue, delivered = iter(ids), 0

        async def worker() -> None:
            nonlocal delivered
            for connection_id in queue:
                async with session.post(f"{endpoint}/@connections/{connection_id}",
                                        data=PAYLOAD) as response:
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


def measure(name: str, run: Run, ids: list[str], runs: int, deadline: float) -> Figures:
    run(ids)  # warm-up: connections opened, imports and caches loaded
    rates: list[float] = []
    cpus: list[float] = []
    ok = True
    for _ in range(runs):
        if time.monotonic() > deadline:
            print(f"  {name}: time budget spent, {len(rates)} runs kept", file=sys.stderr)
            break
        wall, cpu = time.perf_counter(), time.process_time()
        delivered = run(ids)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        ok = ok and delivered == len(ids)
        rates.append(len(ids) / wall)
        cpus.append(cpu * 1000 / len(ids))
    return Figures(name, statistics.median(rates), statistics.median(cpus), ok)


def raise_open_files(wanted: int = 65536) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = f"boto3 {boto3.__version__}, aiohttp {aiohttp.__version__}"
    system = f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    return f"{cpu}, {os.cpu_count()} cores, {system}, {versions}"


def table(figures: list[Figures], n: int, runs: int, concurrency: int) -> str:
    by_name = {f.name: f for f in figures}
    lines = [
        HEADING, "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {machine()}.",
        f"{n} posts of {len(PAYLOAD)} bytes to distinct ids, {concurrency} in flight, sink in "
        f"its own process answering 200; median of {runs} runs after a warm-up.", "",
        "| contender | posts/s | CPU ms/post | all delivered |", "|---|---:|---:|---|",
    ]
    lines += [f"| {f.name} | {f.posts_per_s:,.0f} | {f.cpu_ms_per_post:.3f} | "
              f"{'yes' if f.delivered_ok else 'NO'} |" for f in figures]
    lean_f, boto_f = by_name.get("lean publisher"), by_name.get("boto3 publisher")
    floor_f = by_name.get("unsigned aiohttp (floor)")
    lines.append("")
    if lean_f and boto_f:
        ratio = lean_f.posts_per_s / boto_f.posts_per_s
        lines.append(f"- lean / boto3 publisher: {ratio:.2f}x posts/s "
                     f"(target >= 4x: {'met' if ratio >= 4 else 'MISSED'})")
    if lean_f and floor_f:
        ratio = lean_f.posts_per_s / floor_f.posts_per_s
        lines.append(f"- lean / floor: {ratio:.0%} of posts/s "
                     f"(target >= 50%: {'met' if ratio >= 0.5 else 'MISSED'})")
    return "\n".join(lines) + "\n"


def write_results(section: str) -> None:
    """Replace this benchmark's section of RESULTS.md, keeping the others."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Load test results\n"
    kept, skipping = [], False
    for line in text.splitlines():
        if line.startswith("## "):
            skipping = line.strip() == HEADING
        if not skipping:
            kept.append(line)
    RESULTS.write_text("\n".join(kept).rstrip() + "\n\n" + section)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="distinct ids per run")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=32, help="posts in flight")
    parser.add_argument("--only", action="append", choices=sorted(CONTENDERS),
                        help="run only these contenders (repeatable)")
    parser.add_argument("--max-seconds", type=float, default=300, help="time budget in all")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    if args.n < 1 or args.runs < 1 or args.concurrency < 1:
        parser.error("--n, --runs and --concurrency must be at least 1")
    raise_open_files()
    deadline = time.monotonic() + args.max_seconds
    ids = [f"bench{i:06d}=" for i in range(args.n)]  # base64-like: '=' travels as %3D
    figures = []
    with sink() as endpoint:
        for name in args.only or CONTENDERS:
            run, close = CONTENDERS[name](endpoint, args.concurrency)
            try:
                figures.append(measure(name, run, ids, args.runs, deadline))
            finally:
                close()
            print(f"  {figures[-1]}", file=sys.stderr)
    section = table(figures, args.n, args.runs, args.concurrency)
    print(section)
    if not args.no_write:
        write_results(section)
    return 0 if all(f.delivered_ok for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
