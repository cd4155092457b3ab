"""serve's hardening, end to end: foreign origins refused before the authorizer, @connections
bodies capped at AWS's 128 KB before they are read, and SigV4 signatures checked."""

from __future__ import annotations

import asyncio
import http.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from domain.limits import MAX_PAYLOAD_BYTES
from entrypoints.local_gateway.connections_api.sigv4_form import MISMATCH
from tests.e2e.gateway_process import Gateway, start_gateway

NEVER_CONNECTED = "L0SM9cOFvHcCIhw%3D"
# serve's own keys, whatever the test's environment holds: their signatures are verified.
OWN_KEYS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gateway = start_gateway(
        tmp_path_factory.mktemp("gateway"),
        *("--authorizer", "tests.e2e.stub_authorizer:handler"),
        *("--allow-origin", "https://App.Example:443"),  # written as browsers send it: lower case
        environment={**OWN_KEYS, "AWS_REGION": "us-east-1"},
    )
    yield gateway
    gateway.stop()


def handshake(gateway: Gateway, tag: str, origin: str | None) -> int:
    """The handshake's status, 101 once the connection is open and the handler answered."""

    async def scenario() -> int:
        try:
            url = f"{gateway.ws_url}?tag={tag}"
            async with connect(url, origin=Origin(origin) if origin else None) as ws:
                await ws.send("id")  # the handler posts back with its own boto3 client, signed
                assert await ws.recv()
                return 101
        except InvalidStatus as refused:
            return refused.response.status_code

    return asyncio.run(asyncio.wait_for(scenario(), 30))


@pytest.mark.parametrize(
    ("origin", "status"),
    [
        (None, 101),  # CLI tools and SDKs send no Origin
        ("http://127.0.0.1:{port}", 101),  # the gateway's own page
        ("http://localhost:{port}", 101),
        ("https://app.example", 101),  # --allow-origin
        ("https://evil.example", 403),
        ("http://127.0.0.1:1", 403),  # another local server's page
        ("null", 403),  # a file:// page or a sandboxed frame
    ],
)
def test_only_its_own_page_and_allowed_origins_may_open_websockets(
    gateway: Gateway, origin: str | None, status: int
) -> None:
    tag = f"origin-{status}-{len(gateway.events())}"
    assert handshake(gateway, tag, origin and origin.format(port=gateway.port)) == status
    authorized = Path(f"{gateway.recording}.authorizer").read_text(encoding="utf-8")
    if status == 403:  # refused before the authorizer and $connect ran
        assert tag not in authorized
        assert [e for e in gateway.events() if tag in str(e["event"])] == []
    else:
        assert tag in authorized


def test_a_body_declared_over_128_kb_is_refused_before_it_is_sent(gateway: Gateway) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=10)
    connection.putrequest("POST", f"/{gateway.stage}/@connections/{NEVER_CONNECTED}")
    connection.putheader("Content-Length", str(MAX_PAYLOAD_BYTES + 1))
    connection.endheaders()  # and no body: the answer must not wait for it
    response = connection.getresponse()
    assert response.status == 413
    assert response.getheader("x-amzn-ErrorType") == "PayloadTooLargeException"
    connection.close()


def test_any_method_with_a_chunked_body_past_128_kb_is_refused(gateway: Gateway) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=10)
    chunks = (b"x" * 16384 for _ in range(MAX_PAYLOAD_BYTES // 16384 + 1))
    path = f"/{gateway.stage}/@connections/{NEVER_CONNECTED}"
    connection.request("DELETE", path, body=chunks, encode_chunked=True)
    response = connection.getresponse()
    assert response.status == 413  # not 403 (unsigned) or 410: the body never reached the API
    assert response.getheader("x-amzn-ErrorType") == "PayloadTooLargeException"
    connection.close()


def management(gateway: Gateway, **settings: str) -> Any:
    options = {"aws_access_key_id": "local", "aws_secret_access_key": "local", **settings}
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=gateway.http_url,
        region_name=options.get("region_name", "us-east-1"),
        aws_access_key_id=options["aws_access_key_id"],
        aws_secret_access_key=options["aws_secret_access_key"],
    )


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"aws_secret_access_key": "not-the-secret"}, MISMATCH),
        ({"region_name": "eu-west-1"}, "Credential should be scoped to a valid region"),
    ],
)
def test_bad_signatures_by_serves_own_key_are_forbidden(
    gateway: Gateway, settings: dict[str, str], message: str
) -> None:
    api = management(gateway, **settings)
    with pytest.raises(api.exceptions.ForbiddenException) as refused:
        api.post_to_connection(ConnectionId=NEVER_CONNECTED.replace("%3D", "="), Data=b"hi")
    assert message in refused.value.response["Error"]["Message"]


def test_another_key_is_let_through_unverified_and_the_log_says_so(gateway: Gateway) -> None:
    api = management(gateway, aws_access_key_id="AKIAMADEUP", aws_secret_access_key="anything")
    with pytest.raises(api.exceptions.GoneException):  # past the signature check
        api.get_connection(ConnectionId=NEVER_CONNECTED.replace("%3D", "="))
    assert "access key AKIAMADEUP are accepted unverified" in gateway.log()
