"""A client process for the benchmarks: COUNT WebSocket clients that connect, then time arrivals.

Driven over stdin/stdout, one JSON object a line, so several of these processes (each with its
own GIL) can share the clients of one run. Commands and answers:

    {"cmd": "connect"}                          -> {"event": "connected", "ok", "errors", ...}
    {"cmd": "collect", "tag": T, "timeout": S}  -> {"event": "collected", "latencies_ms", ...}
    {"cmd": "quit"}                             -> the process exits (sockets drop with it)

A benchmark message is the text "bench TAG SEND_NS", SEND_NS being the sender's
time.monotonic_ns(): CLOCK_MONOTONIC is one clock for every process on Linux, so arrival minus
SEND_NS is the latency from the send. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections import defaultdict
from typing import Any

from bench_client import open_client
from floor_server import raise_open_files_limit

OPEN_TIMEOUT_S = 30.0


class Fleet:
    """The clients of this process and the arrivals they saw, by tag."""

    def __init__(self, url: str, count: int, in_flight: int) -> None:
        self.url, self.count, self.in_flight = url, count, in_flight
        self.clients: list[asyncio.Transport] = []
        self.errors: list[str] = []
        self.arrivals: defaultdict[str, list[int]] = defaultdict(list)  # tag -> latency ns
        self._changed = asyncio.Event()

    async def connect_all(self) -> dict[str, Any]:
        gate = asyncio.Semaphore(self.in_flight)
        started = time.perf_counter()
        await asyncio.gather(*(self._connect_one(gate) for _ in range(self.count)))
        seconds = time.perf_counter() - started
        return {
            "event": "connected",
            "ok": len(self.clients),
            "errors": len(self.errors),
            "error_samples": sorted(set(self.errors))[:5],
            "seconds": seconds,
        }

    async def _connect_one(self, gate: asyncio.Semaphore) -> None:
        async with gate:
            try:
                client = await open_client(self.url, self._arrived, self._lost, OPEN_TIMEOUT_S)
            except Exception as exc:  # every failure is counted and shown, none is fatal
                self.errors.append(f"{type(exc).__name__}: {exc}")
                return
        self.clients.append(client)

    def _arrived(self, payload: bytes, arrived_ns: int) -> None:
        if payload.startswith(b"bench "):
            _, tag, sent = payload.split(b" ", 2)
            self.arrivals[tag.decode()].append(arrived_ns - int(sent))
            self._changed.set()

    def _lost(self, why: str) -> None:
        # A dropped client shows up as a missing arrival; the first few say why.
        self.errors.append(why)

    async def collect(self, tag: str, timeout: float) -> dict[str, Any]:
        cpu_before = time.process_time()
        expected = len(self.clients)
        deadline = time.monotonic() + timeout
        while len(self.arrivals[tag]) < expected and time.monotonic() < deadline:
            self._changed.clear()
            try:
                async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                    await self._changed.wait()
            except TimeoutError:
                break
        latencies = self.arrivals.pop(tag, [])
        return {
            "event": "collected",
            "tag": tag,
            "expected": expected,
            "latencies_ms": [ns / 1e6 for ns in latencies],
            "cpu_ms": (time.process_time() - cpu_before) * 1000,
        }


async def serve_commands(fleet: Fleet) -> None:
    say({"event": "ready"})
    while True:
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line:
            return  # the benchmark went away: so do we
        command = json.loads(line)
        if command["cmd"] == "connect":
            say(await fleet.connect_all())
        elif command["cmd"] == "collect":
            say(await fleet.collect(command["tag"], float(command["timeout"])))
        elif command["cmd"] == "quit":
            # Drop every socket at once (the server sees 1006): closing 5,000 politely
            # would only slow the benchmark down.
            os._exit(0)
        else:
            say({"event": "error", "message": f"unknown command {command['cmd']!r}"})


def say(answer: dict[str, Any]) -> None:
    print(json.dumps(answer), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark clients, driven over stdin.")
    parser.add_argument("--url", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--in-flight", type=int, default=100, help="handshakes at once")
    args = parser.parse_args()
    if not args.url.startswith("ws://127.0.0.1:"):
        parser.error(f"--url must be a loopback ws:// URL, not {args.url!r}")
    raise_open_files_limit()
    asyncio.run(serve_commands(Fleet(args.url, args.count, args.in_flight)))


if __name__ == "__main__":
    main()
