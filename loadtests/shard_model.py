"""The sharded fan-out model: from one worker's posts/s to workers, time and cost per broadcast.

Long: the model, its inputs and its table are one calculation.

Assumptions, each named below: shards of 1,000 (SHARD_SIZE), checkpoints every 256 posts,
the SQS event source mapping's documented scaling (5 concurrent invocations at first, then up
to 300 more per minute, at most 1,000), 80% of the API Gateway request quota left to the
fan-out (messages, connects and other APIs share it), half a second before the first worker
posts (dispatch, SQS polling, a cold start), and us-east-1 list prices for arm64.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from results import machine_line

SHARD_SIZE = 1000
CHECKPOINT_EVERY = 256
START_WORKERS, RAMP_PER_SECOND, MAX_WORKERS = 5, 300 / 60, 1000
QUOTA_SHARE = 0.8
START_LATENCY = 0.5  # seconds
COLD_START = 0.35  # seconds of init per worker (loadtests/RESULTS.md, Benchmark 3)
DEFAULT_QUOTA, RAISED_QUOTA = 10_000, 50_000
TEMPLATE_WORKERS = 5  # infra/template.yaml FanoutMaxWorkers' default
SIZES = (10_000, 100_000, 1_000_000)
BYTES_PER_CONNECTION = 200  # a connection item and a membership, as a Scan reads them


@dataclass(frozen=True)
class Worker:
    """One worker, measured: its in-flight bound, posts/s and CPU per post."""

    concurrency: int
    posts_per_s: float
    cpu_ms_per_post: float

    @property
    def memory_mb(self) -> int:
        """Lambda gives 1 vCPU per 1,769 MB: enough for the CPU it used, 25% spare, >= 512."""
        vcpu = self.posts_per_s * self.cpu_ms_per_post / 1000
        return max(512, math.ceil(vcpu * 1769 * 1.25 / 64) * 64)


@dataclass(frozen=True)
class Prices:
    """US dollars, us-east-1 list prices (arm64 Lambda) when written; check before relying."""

    gb_second: float = 0.0000133334
    invocation: float = 0.20 / 1e6
    sqs_request: float = 0.40 / 1e6
    read_unit: float = 0.125 / 1e6  # DynamoDB on-demand
    write_unit: float = 0.625 / 1e6
    websocket_message: float = 1.00 / 1e6  # API Gateway, per message sent to a client


def completion(n: int, workers: int, rate: float, quota: float) -> float:
    """Seconds from the message to the last post: workers ramp up, the quota caps them all."""
    workers = min(workers, math.ceil(n / SHARD_SIZE), MAX_WORKERS)
    t, done, dt = START_LATENCY, 0.0, 0.01
    while done < n:
        running = min(workers, START_WORKERS + RAMP_PER_SECOND * (t - START_LATENCY))
        done += min(running * rate, quota * QUOTA_SHARE) * dt
        t += dt
    return t


def workers_within(n: int, seconds: float, rate: float) -> int | None:
    """The fewest workers that finish within `seconds`, quota aside; None if 1,000 cannot."""
    for workers in range(2, MAX_WORKERS + 1):
        if completion(n, workers, rate, math.inf) <= seconds:
            return workers
        if workers >= math.ceil(n / SHARD_SIZE):
            return None  # more workers than shards would idle
    return None


def cost(n: int, worker: Worker, workers: int, prices: Prices) -> tuple[float, float, float]:
    """(worker GB-seconds, Lambda + SQS + DynamoDB dollars, API Gateway message dollars)."""
    shards = math.ceil(n / SHARD_SIZE)
    gb_s = (n / worker.posts_per_s + workers * COLD_START) * worker.memory_mb / 1024
    sqs = math.ceil(shards / 10) + 2 * shards  # send batches; one receive, one delete a shard
    reads = n * BYTES_PER_CONNECTION / 4096 / 2  # eventually consistent Scan: 4 KB per half unit
    writes = math.ceil(n / CHECKPOINT_EVERY) + shards
    aws = (
        gb_s * prices.gb_second
        + shards * prices.invocation
        + sqs * prices.sqs_request
        + reads * prices.read_unit
        + writes * prices.write_unit
    )
    return gb_s, aws, n * prices.websocket_message


def model_rows(worker: Worker, prices: Prices) -> list[str]:
    rows = []
    rate = worker.posts_per_s
    for n in SIZES:
        within = []
        for seconds in (10, 29):
            w = workers_within(n, seconds, rate)
            over = n / seconds > DEFAULT_QUOTA * QUOTA_SHARE
            within.append("no" if w is None else f"{w}{' (quota!)' if over else ''}")
        at = []
        for quota in (DEFAULT_QUOTA, RAISED_QUOTA):
            w = min(math.ceil(quota * QUOTA_SHARE / rate), MAX_WORKERS)
            at.append((completion(n, w, rate, quota), w))
        gb_s, aws, messages = cost(n, worker, at[0][1], prices)
        rows.append(
            f"| {n:,} | {math.ceil(n / SHARD_SIZE):,} | {within[0]} | {within[1]} | "
            f"{at[0][0]:,.1f} s ({at[0][1]}) | {at[1][0]:,.1f} s ({at[1][1]}) | {gb_s:,.1f} | "
            f"${aws:.4f} | ${messages:.2f} |"
        )
    return rows


def table(workers: list[Worker], rows: list[str], n: int, runs: int, latency_ms: float) -> str:
    main = workers[0]
    lines = [
        machine_line(),
        f"One worker (ShardWorker -> Fanout -> LeanPublisher, checkpoints every "
        f"{CHECKPOINT_EVERY}) posting a shard of {n:,} connections to a sink answering 200 after "
        f"{latency_ms:g} ms, in its own process; median of {runs} runs after a warm-up.",
        "",
        "| posts in flight | posts/s per worker | CPU ms/post | Lambda memory for that CPU |",
        "|---:|---:|---:|---:|",
        *(
            f"| {w.concurrency} | {w.posts_per_s:,.0f} | {w.cpu_ms_per_post:.3f} | "
            f"{w.memory_mb} MB |"
            for w in workers
        ),
        "",
        f"Model at {main.posts_per_s:,.0f} posts/s per worker ({main.concurrency} in flight, "
        f"{main.memory_mb} MB), shards of {SHARD_SIZE:,}:",
        "",
        "| connections | shards | workers to finish in 10 s | in 29 s | time at 10,000 req/s "
        "(workers) | at 50,000 req/s (workers) | worker GB-s | Lambda+SQS+DynamoDB $ | "
        "API Gateway messages $ |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        f"- With the template's default of {TEMPLATE_WORKERS} workers: "
        + ", ".join(
            f"{n:,} in {completion(n, TEMPLATE_WORKERS, main.posts_per_s, DEFAULT_QUOTA):,.1f} s"
            for n in SIZES
        )
        + ".",
        f"- Workers at a quota: as many as keep {QUOTA_SHARE:.0%} of it busy (the rest is left "
        'to messages, connects and other APIs), at most 1,000. "(quota!)": that time needs '
        "more posts/s than 80% of the default quota; raise it first.",
        f"- Time: {START_LATENCY} s to the first post, then SQS's event source mapping scaling "
        "(5 concurrent invocations, up to 300 more a minute): a cap of 1,000 workers is reached "
        "after about 3 minutes, so large fleets help only long broadcasts.",
        f"- GB-s: posting time at the measured rate plus {COLD_START} s of init per worker. "
        "Prices (us-east-1, arm64): Lambda $0.0000133334/GB-s and $0.20/M invocations, SQS "
        "$0.40/M requests, DynamoDB on-demand $0.125/M reads and $0.625/M writes (a "
        f"{BYTES_PER_CONNECTION}-byte Scan per connection, a checkpoint per {CHECKPOINT_EVERY} "
        "posts), API Gateway WebSocket $1.00/M messages.",
        "- Measured on this machine's CPU, not Graviton; the 25 ms is a typical in-region "
        "@connections answer, not a measured one.",
    ]
    return "\n".join(lines) + "\n"
