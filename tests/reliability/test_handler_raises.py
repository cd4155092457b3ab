"""A handler that raises: the sender gets AWS's error frame, everyone else carries on.

Ten of thirty clients make the handler raise, between broadcasts. Each of them gets
`{"message": "Internal server error", "connectionId", "requestId"}`, the gateway logs the
failure with that request id, and every client, the ten included, still gets every broadcast.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

from tests.e2e.gateway_process import start_gateway
from tests.reliability.raising_handler import BOOM
from tests.reliability.report import Row, record
from tests.reliability.ws_client import Client

CLIENTS = 30
RAISERS = 10


def test_a_raising_handler_harms_no_one_else(tmp_path: Path) -> None:
    gateway = start_gateway(tmp_path, handler="tests.reliability.raising_handler:handler")

    async def scenario() -> tuple[list[Client], list[str]]:
        clients = [await Client.open(gateway.ws_url) for _ in range(CLIENTS)]
        for client in clients:
            await client.sync()
        tags = []
        for n in range(RAISERS):
            await clients[n].send(BOOM)
            tags.append(f"broadcast {n}")
            await clients[-1].send({"action": "sendmessage", "data": tags[-1]})
            await clients[-1].sync()
        for client in clients:
            await client.sync()  # every frame posted to it so far has been read
            await client.close()
        return clients, tags

    try:
        clients, tags = asyncio.run(asyncio.wait_for(scenario(), 60))
    finally:
        stopped = gateway.stop()
    log = gateway.log()
    assert stopped == 0, log[-3000:]

    errors = [[f for f in c.frames if "Internal server error" in f] for c in clients]
    lost = sum(tag not in c.payloads() for c in clients for tag in tags)
    figures = Row(
        test="handler that raises",
        load=f"{CLIENTS} clients, {len(tags)} broadcasts between the failures",
        faults=f"{RAISERS} invocations raising RuntimeError",
        inputs="-",
        lost=f"{lost} of {CLIENTS * len(tags)} deliveries; others saw 0 error frames",
    )
    print(figures)
    assert lost == 0
    for n, (client, frames) in enumerate(zip(clients, errors, strict=True)):
        if n >= RAISERS:
            assert frames == []
            continue
        [frame] = frames
        error = json.loads(frame)
        assert error["message"] == "Internal server error"
        assert error["connectionId"] == client.connection_id
        pattern = (
            rf"ERROR handler raised: route=\$default connection={re.escape(client.connection_id)}"
            rf" request={re.escape(error['requestId'])} "
        )
        assert re.search(pattern, log), f"no log line for {error}"
    assert log.count("RuntimeError: the handler failed on purpose") == RAISERS
    record(figures)
