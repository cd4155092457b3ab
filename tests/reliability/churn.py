"""Churn: visitors come and go while a steady client broadcasts; then, who missed what.

A visitor counts for a broadcast when its handshake had completed before the broadcast was
sent (so $connect had stored it) and it began to leave only after the broadcast was done
(the steady client's next sync was answered, so every post had been made). Both times are
taken on the safe side, so an expected delivery that did not arrive is a real loss.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field

from tests.reliability.ws_client import Client

LOBBY = "lobby"


@dataclass(frozen=True)
class Plan:
    start: float  # seconds after the run starts
    stay: float  # seconds connected
    joins: bool  # joins the lobby first: its membership must go when it does
    aborts: bool  # drops TCP without a close frame, as a lost phone does


@dataclass
class Visit:
    plan: Plan
    opened: float = 0.0
    leaving: float = float("inf")
    received: set[str] = field(default_factory=set)
    error: str | None = None


@dataclass(frozen=True)
class Broadcast:
    tag: str
    sent: float
    done: float


@dataclass
class ChurnRun:
    visits: list[Visit]
    broadcasts: list[Broadcast] = field(default_factory=list)

    def expected(self) -> list[tuple[Visit, Broadcast]]:
        return [
            (visit, broadcast)
            for visit in self.visits
            for broadcast in self.broadcasts
            if visit.error is None
            and visit.opened < broadcast.sent < broadcast.done < visit.leaving
        ]

    def lost(self) -> list[tuple[Visit, Broadcast]]:
        return [(v, b) for v, b in self.expected() if b.tag not in v.received]

    def peak_open(self) -> int:
        moments = [(v.opened, 1) for v in self.visits if v.error is None]
        moments += [(v.leaving, -1) for v in self.visits if v.error is None]
        peak = open_now = 0
        for _, step in sorted(moments):
            open_now += step
            peak = max(peak, open_now)
        return peak


def plans(visitors: int, seconds: float, seed: int) -> list[Plan]:
    rng = random.Random(seed)
    spacing = seconds / visitors
    return [
        Plan(n * spacing, rng.uniform(0.5, 4.0), rng.random() < 0.4, rng.random() < 0.1)
        for n in range(visitors)
    ]


async def churn(url: str, steady: Client, schedule: list[Plan], interval: float) -> ChurnRun:
    """Run the visitors of `schedule` while `steady` broadcasts every `interval` seconds."""
    run = ChurnRun([Visit(plan) for plan in schedule])
    started = time.monotonic()
    stop = asyncio.Event()
    broadcasting = asyncio.create_task(_broadcast(steady, run, interval, stop))
    await asyncio.gather(*(_visit(url, visit, started) for visit in run.visits))
    stop.set()
    await broadcasting
    return run


async def _broadcast(steady: Client, run: ChurnRun, interval: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        tag = f"b:{len(run.broadcasts)}"
        sent = time.monotonic()
        await steady.send({"action": "sendmessage", "data": tag})
        await steady.sync()  # answered after the broadcast's handler returned
        run.broadcasts.append(Broadcast(tag, sent, time.monotonic()))
        await asyncio.sleep(interval)


async def _visit(url: str, visit: Visit, started: float) -> None:
    plan = visit.plan
    await asyncio.sleep(max(0.0, started + plan.start - time.monotonic()))
    try:
        client = await Client.open(url)
    except Exception as exc:  # counted and reported by the test, never ignored
        visit.error = repr(exc)
        return
    visit.opened = time.monotonic()
    if plan.joins:
        await client.send({"action": "join", "room": LOBBY})
    await asyncio.sleep(plan.stay)
    try:
        if plan.aborts:
            # An abort throws away frames not yet read: sync first, so that every broadcast
            # done before `leaving` has been read.
            visit.leaving = time.monotonic()
            await client.sync()
            await client.abort()
        else:
            visit.leaving = time.monotonic()
            await client.close()
    except Exception as exc:
        visit.error = repr(exc)
    visit.received = {frame for frame in client.payloads() if frame.startswith("b:")}
