"""Benchmark: one fan-out worker's posts/s against an AWS-like sink, and the model it implies.

Measured: the worker's own code path (ShardWorker -> Fanout -> LeanPublisher, checkpoints in
memory) posting one shard to a sink that answers 200 after 25 ms, as @connections does from
inside AWS; the sink runs in its own process (this script, --sink). Modelled from that figure:
for 10,000 to 1,000,000 connections, the workers needed, the time to complete under the
account's API Gateway quota, and the cost per broadcast. Nothing leaves 127.0.0.1.

    .venv/bin/python loadtests/bench_shards.py [--n 3000] [--runs 3] [--latency-ms 25]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from offline_aws import use_fake_credentials  # noqa: E402  (this script's folder)

use_fake_credentials()

from shard_model import Prices, Worker, model_rows, table  # noqa: E402  (this script's folder)

TITLE = "Benchmark: sharded fan-out model"
PAYLOAD = b"x" * 100


def serve_sink(latency: float) -> None:
    """The sink: 200 after `latency` seconds, every request concurrently; stops on stdin EOF."""
    import asyncio

    from aiohttp import web

    async def answer(request: web.BaseRequest) -> web.Response:
        await request.read()
        await asyncio.sleep(latency)
        return web.Response(status=200)

    async def main() -> None:
        server = web.Server(answer, access_log=None)
        loop = asyncio.get_running_loop()
        listener = await loop.create_server(server, "127.0.0.1", 0, backlog=4096)
        print(listener.sockets[0].getsockname()[1], flush=True)
        await loop.run_in_executor(None, sys.stdin.read)
        listener.close()
        await server.shutdown(1.0)

    asyncio.run(main())


@contextmanager
def sink(latency_ms: float) -> Iterator[str]:
    child = subprocess.Popen(
        [sys.executable, __file__, "--sink", "--latency-ms", str(latency_ms)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        yield f"http://127.0.0.1:{int(child.stdout.readline())}/bench"
    finally:
        assert child.stdin is not None
        child.stdin.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()


def measure(endpoint: str, n: int, runs: int, concurrency: int, batch: int) -> Worker:
    """Median posts/s and CPU ms/post of one worker posting one shard of `n` connections."""
    import botocore.session

    from adapters.apigateway.lean_publisher import LeanPublisher
    from adapters.clock import SystemClock
    from adapters.memory.progress import MemoryProgress
    from adapters.memory.store import MemoryStore
    from domain.fanout import Fanout
    from domain.model import Connection
    from domain.shard_worker import ShardWorker
    from domain.shards import EveryonePart, ShardTask

    clock, store = SystemClock(), MemoryStore()
    for i in range(n):
        store.add(Connection.open(f"bench{i:07d}=", int(clock.now() * 1000)))
    publisher = LeanPublisher(endpoint, "us-east-1", concurrency, botocore.session.Session())
    try:
        fanout = Fanout(store, publisher, clock, batch_size=batch)
        rates, cpus = [], []
        for run in range(runs + 1):  # the first run warms connections and caches up
            worker = ShardWorker(store, fanout, MemoryProgress(), clock, batch)
            wall, cpu = time.perf_counter(), time.process_time()
            report = worker.run(ShardTask(f"bench{run}", 0, EveryonePart(0, 1), PAYLOAD))
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            if report.result.delivered != n:
                raise SystemExit(f"run {run}: {report.result.delivered} of {n} delivered")
            if run:
                rates.append(n / wall)
                cpus.append(cpu * 1000 / n)
    finally:
        publisher.close()
    return Worker(concurrency, statistics.median(rates), statistics.median(cpus))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000, help="connections in the shard")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=25.0, help="the sink's answer time")
    parser.add_argument("--concurrency", type=int, default=32, help="posts in flight (default)")
    parser.add_argument(
        "--also",
        type=int,
        action="append",
        default=[],
        help="also measure this in-flight bound (for the notes), repeatable",
    )
    parser.add_argument("--batch", type=int, default=256, help="posts between checkpoints")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--sink", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        serve_sink(args.latency_ms / 1000)
        return 0
    if min(args.n, args.runs, args.concurrency, args.batch) < 1 or args.n > 100_000:
        parser.error("--n (at most 100,000), --runs, --concurrency and --batch must be >= 1")
    with sink(args.latency_ms) as endpoint:
        workers = [
            measure(endpoint, args.n, args.runs, c, args.batch)
            for c in [args.concurrency, *args.also]
        ]
    body = table(workers, model_rows(workers[0], Prices()), args.n, args.runs, args.latency_ms)
    print(body)
    if not args.no_write:
        from results import write_section

        write_section(TITLE, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
