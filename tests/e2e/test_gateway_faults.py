"""Faults on request and exposure: dropped $disconnects, and the warning off loopback."""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from websockets.asyncio.client import connect

from tests.e2e.gateway_process import ROOT, Gateway, start_gateway

CLIENTS = 20
RATE, SEED = 0.5, 7


@pytest.fixture(scope="module")
def lossy_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gateway = start_gateway(
        tmp_path_factory.mktemp("lossy"), "--drop-disconnect-rate", str(RATE), "--seed", str(SEED)
    )
    yield gateway
    assert gateway.stop() == 0, gateway.log()


def serve(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "entrypoints.cli", "serve", "--port", "0", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_a_seeded_rate_drops_that_share_of_disconnects(lossy_gateway: Gateway) -> None:
    async def scenario() -> None:
        for n in range(CLIENTS):
            async with connect(f"{lossy_gateway.ws_url}?tag=c{n}"):
                pass

    asyncio.run(asyncio.wait_for(scenario(), 60))
    ids = [lossy_gateway.connection_id(f"c{n}") for n in range(CLIENTS)]
    # Each disconnect draws once from the seeded RNG: the count is the same on every run.
    draws = random.Random(SEED)
    expected_drops = sum(draws.random() < RATE for _ in range(CLIENTS))
    assert 0 < expected_drops < CLIENTS
    delivered = lossy_gateway.wait_for(
        lambda r: r["event"]["requestContext"]["routeKey"] == "$disconnect",
        count=CLIENTS - expected_drops,
    )
    log = lossy_gateway.log()
    dropped = [i for i in ids if f"dropped $disconnect connection={i}" in log]
    assert len(dropped) == expected_drops
    assert len(delivered) == CLIENTS - expected_drops
    # A dropped $disconnect still closes the connection: @connections answers 410 for it.
    api = lossy_gateway.management()
    with pytest.raises(api.exceptions.GoneException):
        api.get_connection(ConnectionId=dropped[0])


def test_the_drop_rate_must_be_a_fraction() -> None:
    done = serve("--drop-disconnect-rate", "1.5")
    assert done.returncode == 2
    assert "--drop-disconnect-rate must be between 0 and 1" in done.stderr


def test_a_non_loopback_address_gets_a_loud_warning() -> None:
    # 203.0.113.1 (TEST-NET-3) is on no interface here: the warning comes, then binding fails,
    # so nothing ever listens off loopback.
    done = serve("--host", "203.0.113.1")
    assert done.returncode == 1
    assert "cannot listen on 203.0.113.1" in done.stderr
    warning = done.stderr.split("switchboard serve: cannot listen")[0]
    assert "WARNING: switchboard serve is listening on 203.0.113.1" in warning
    assert "NOT on loopback" in warning
    assert len(warning.strip().splitlines()) >= 5


def test_loopback_is_the_default_and_quiet(recording_gateway: Gateway) -> None:
    assert "WARNING" not in recording_gateway.log()
    assert recording_gateway.ws_url.startswith("ws://127.0.0.1:")


def test_unsigned_connections_api_requests_are_forbidden(lossy_gateway: Gateway) -> None:
    for method in ("GET", "POST", "DELETE"):
        url = f"{lossy_gateway.http_url}/@connections/L0SM9cOFvHcCIhw%3D"
        request = urllib.request.Request(url, data=b"x" if method == "POST" else None)
        request.method = method
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 403
        assert refused.value.headers["x-amzn-ErrorType"] == "ForbiddenException"
