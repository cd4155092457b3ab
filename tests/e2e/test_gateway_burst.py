"""A burst: 1,000 clients connecting at once all get in, and all hear one broadcast."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.e2e.gateway_process import Gateway, start_gateway

CLIENTS = 1000


@pytest.fixture(scope="module")
def app_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gateway = start_gateway(
        tmp_path_factory.mktemp("burst"), handler="entrypoints.aws_lambda:handler"
    )
    yield gateway
    assert gateway.stop() == 0, gateway.log()


def test_a_thousand_simultaneous_connects_all_succeed(app_gateway: Gateway) -> None:
    async def scenario() -> tuple[int, int, list[str]]:
        attempts = await asyncio.gather(
            *(
                connect(app_gateway.ws_url, open_timeout=60, ping_interval=None)
                for _ in range(CLIENTS)
            ),
            return_exceptions=True,
        )
        clients = [c for c in attempts if isinstance(c, ClientConnection)]
        failures = [repr(c) for c in attempts if not isinstance(c, ClientConnection)]
        try:
            if not clients:
                return 0, 0, failures
            await clients[0].send("hello, everyone")
            heard = await asyncio.gather(*(c.recv() for c in clients))
            return len(clients), heard.count("hello, everyone"), failures
        finally:
            await asyncio.gather(*(c.close() for c in clients))

    connected, heard, failures = asyncio.run(asyncio.wait_for(scenario(), 120))
    assert failures == []
    assert connected == heard == CLIENTS
