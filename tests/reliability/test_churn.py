"""Churn against `switchboard serve`, each store: 2,000 visitors in 40-70 s, broadcasts all along
(a soak test: `make test` runs a short form, `make soak` this full one; tests/soak.py).

Afterwards the store must hold the steady client alone. Three views of that: the @connections
API (GET for every id the gateway ever accepted: one live, the rest 410); the handler's own
count of recipients for a broadcast to everyone and one to the lobby after the churn (a ghost
record or membership would be a recipient, and memory is only visible that way); and, with
DynamoDB, the table itself, read at the embedded moto's endpoint.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.gateway_process import Gateway, start_gateway
from tests.reliability import gateway_checks as checks
from tests.reliability.churn import LOBBY, ChurnRun, churn, plans
from tests.reliability.report import Row, record
from tests.reliability.ws_client import Client
from tests.soak import FORM, scaled

APP_HANDLER = "entrypoints.aws_lambda:handler"
# Visitors, and the seconds they arrive over. DynamoDB is moto here, one request at a time at
# ~5 ms of CPU each (more on a slow day): at 33 visitors a second it fell behind on a busy 2-core
# machine (broadcasts then wait seconds behind the connects), at 29 it kept up on a fast day
# and not on a slow one (2026-12-02: a join took 3 s); the full form arrives at 17 a second and
# the short one at 15.
VISITORS = {"memory": scaled(2000, 600), "dynamodb": scaled(2000, 300)}
SECONDS = {"memory": scaled(40.0, 15.0), "dynamodb": scaled(120.0, 20.0)}
INTERVAL = 0.25  # between one broadcast's end and the next
SEED = 20241111
SAMPLE = scaled(400, 150)  # closed connections asked about through @connections
MARGIN = 120.0  # seconds past the arrivals for the stragglers, the checks and the shutdown


def _errors_logged(log: str) -> str:
    """The gateway's log lines around its errors: what a client's failure came from."""
    lines = log.splitlines()
    marks = [i for i, line in enumerate(lines) if "ERROR" in line or "Traceback" in line]
    return "\n".join(line for i in marks[:5] for line in lines[i : i + 25])


@dataclass
class Outcome:
    run: ChurnRun
    steady_id: str
    steady_frames: list[str]
    statuses: dict[str, int]
    items: list[dict[str, Any]] | None
    final: list[dict[str, Any]]


@pytest.mark.soak
@pytest.mark.parametrize("store", ["memory", "dynamodb"])
def test_churn_loses_nothing_and_leaves_no_ghost(tmp_path: Path, store: str) -> None:
    # The steady client broadcasts and syncs all along: a budget well above its pace.
    budget = {"MESSAGE_RATE": "100", "MESSAGE_BURST": "200"}
    gateway = start_gateway(tmp_path, "--store", store, handler=APP_HANDLER, environment=budget)
    try:
        limit = SECONDS[store] + MARGIN
        outcome = asyncio.run(asyncio.wait_for(scenario(gateway, store), limit))
    finally:
        stopped = gateway.stop()
    assert stopped == 0, gateway.log()[-3000:]
    run = outcome.run

    errors = [v.error for v in run.visits if v.error]
    lost = run.lost()
    ghosts_api = outcome.statuses.get("live", 0) - 1
    ghosts_handler = sum(record["recipients"] for record in outcome.final) - len(outcome.final)
    ghost_items = [i for i in outcome.items or [] if i["connectionId"]["S"] != outcome.steady_id]
    figures = Row(
        test=f"churn, {'DynamoDB' if store == 'dynamodb' else 'memory'} store ({FORM} form)",
        load=(
            f"{VISITORS[store]:,} clients in {SECONDS[store]:.0f} s"
            f" (peak {run.peak_open()} open at once),"
            f" {len(run.broadcasts)} broadcasts"
        ),
        faults=(
            f"{sum(v.plan.aborts for v in run.visits)} abrupt TCP drops (1006),"
            f" {sum(v.plan.joins for v in run.visits)} leaving with a room membership"
        ),
        inputs="-",
        lost=(
            f"{len(lost)} of {len(run.expected()):,} deliveries;"
            f" {max(ghosts_api, ghosts_handler, len(ghost_items))} ghosts"
        ),
    )
    print(figures)
    assert errors == [], _errors_logged(gateway.log())
    # The test measured something, even on a slow machine (broadcasts that outlast most visits).
    assert len(run.broadcasts) >= 10
    assert len(run.expected()) >= VISITORS[store] // 10
    assert [(v.plan, b.tag) for v, b in lost] == []
    assert {b.tag for b in run.broadcasts} <= set(outcome.steady_frames)
    assert outcome.statuses == {"live": 1, "gone": SAMPLE}
    assert [(r["recipients"], r["pruned"]) for r in outcome.final] == [(1, 0), (1, 0)]
    assert ghost_items == []
    if store == "dynamodb":
        assert outcome.items, "the steady client's own record should be in the table"
    record(figures)


async def scenario(gateway: Gateway, store: str) -> Outcome:
    steady = await Client.open(gateway.ws_url)
    steady_id = steady.connection_id
    run = await churn(
        gateway.ws_url, steady, plans(VISITORS[store], SECONDS[store], SEED), INTERVAL
    )
    connected = sum(v.error is None for v in run.visits)
    # Every visitor's $disconnect has run before the store is looked at.
    await asyncio.to_thread(
        checks.wait_for_lines, gateway, r"handler route=\$disconnect ", connected, 60.0
    )
    ids = checks.connected_ids(gateway)
    assert len(ids) == connected + 1
    # Every id would take ~10 s of signed GETs on 2 cores: the steady one and a seeded sample.
    sample = [steady_id, *random.Random(SEED).sample([i for i in ids if i != steady_id], SAMPLE)]
    statuses = await asyncio.to_thread(checks.connection_statuses, gateway, sample)
    items = await asyncio.to_thread(checks.table_items, gateway) if store == "dynamodb" else None
    await steady.send({"action": "join", "room": LOBBY})
    await steady.send({"action": "sendmessage", "data": "after the churn"})
    await steady.send({"action": "sendmessage", "room": LOBBY, "data": "after the churn, lobby"})
    await steady.sync()
    final = checks.invocations(gateway, connection_id=steady_id, command="sendmessage")[-2:]
    await steady.close()
    return Outcome(run, steady_id, steady.payloads(), dict(statuses), items, final)
