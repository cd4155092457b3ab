"""Each route caps its request bodies: refused with 413 from Content-Length, or while chunked."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import h11
import pytest

from entrypoints.local_gateway.web.http_router import (
    DEFAULT_MAX_BODY_BYTES,
    HttpRequest,
    HttpResponse,
    Router,
)
from entrypoints.local_gateway.web.http_serving import serve_http

CAP = 16


class Client:
    """One keep-alive HTTP/1.1 connection, framed by h11's client side."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.conn = h11.Connection(h11.CLIENT)

    def send(self, *events: h11.Request | h11.Data | h11.EndOfMessage) -> None:
        for event in events:
            self.writer.write(self.conn.send(event) or b"")

    async def response(self) -> tuple[int, dict[str, str], bytes]:
        head: h11.Response | None = None
        body = b""
        while True:
            event = self.conn.next_event()
            if event is h11.NEED_DATA:
                self.conn.receive_data(await asyncio.wait_for(self.reader.read(65536), 10))
            elif isinstance(event, h11.Response):
                head = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                assert head is not None
                headers = {k.decode(): v.decode() for k, v in head.headers}
                return head.status_code, headers, body


def post(path: str, *headers: tuple[str, str]) -> h11.Request:
    return h11.Request(method="POST", target=path, headers=[("Host", "127.0.0.1"), *headers])


@asynccontextmanager
async def serving(calls: list[bytes]) -> AsyncIterator[Client]:
    async def echo(request: HttpRequest) -> HttpResponse:
        calls.append(request.body)
        return HttpResponse.text(200, f"got {len(request.body)}")

    router = Router()
    router.add(["POST"], "/capped", echo, max_body_bytes=CAP)
    router.add(["POST"], "/roomy", echo, max_body_bytes=CAP * 4)  # e.g. a /publish envelope

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await serve_http(reader, writer, router, "/dev", lambda *_: asyncio.sleep(0))
        finally:
            writer.close()  # as the gateway's listener does

    server = await asyncio.start_server(connection, "127.0.0.1", 0)
    async with server:
        client = Client(*await asyncio.open_connection(*server.sockets[0].getsockname()[:2]))
        try:
            yield client
        finally:
            client.writer.close()


def test_a_declared_length_over_the_cap_is_refused_before_the_body_is_sent() -> None:
    async def scenario() -> tuple[int, dict[str, str], bytes]:
        calls: list[bytes] = []
        async with serving(calls) as client:
            client.send(post("/capped", ("Content-Length", str(CAP + 1))))  # and no body
            answer = await client.response()
        assert calls == []
        return answer

    status, headers, body = asyncio.run(scenario())
    assert status == 413
    assert headers["x-amzn-errortype"] == "PayloadTooLargeException"
    assert headers["connection"] == "close"
    assert json.loads(body) == {"message": f"The payload is {CAP + 1} bytes; the limit is {CAP}"}


def test_a_chunked_body_is_refused_once_it_grows_past_the_cap() -> None:
    async def scenario() -> int:
        calls: list[bytes] = []
        async with serving(calls) as client:
            client.send(post("/capped", ("Transfer-Encoding", "chunked")))
            client.send(h11.Data(data=b"x" * CAP), h11.Data(data=b"x"))  # no end: never ends
            status, headers, _ = await client.response()
        assert calls == []
        assert headers["x-amzn-errortype"] == "PayloadTooLargeException"
        return status

    assert asyncio.run(scenario()) == 413


def test_bodies_within_the_cap_reach_the_handler_and_the_connection_stays_open() -> None:
    async def scenario() -> list[bytes]:
        calls: list[bytes] = []
        async with serving(calls) as client:
            client.send(post("/capped", ("Content-Length", str(CAP))))
            client.send(h11.Data(data=b"a" * CAP), h11.EndOfMessage())
            assert (await client.response())[0] == 200
            client.conn.start_next_cycle()
            client.send(post("/roomy", ("Transfer-Encoding", "chunked")))
            client.send(h11.Data(data=b"b" * CAP * 2), h11.Data(data=b"c"), h11.EndOfMessage())
            assert (await client.response())[0] == 200
        return calls

    assert asyncio.run(scenario()) == [b"a" * CAP, b"b" * CAP * 2 + b"c"]


async def _nothing(request: HttpRequest) -> HttpResponse:
    return HttpResponse(204)


def test_the_cap_is_the_routes_own() -> None:
    router = Router()
    router.add(["GET"], "/item", _nothing, max_body_bytes=0)
    router.add(["POST"], "/item", _nothing, max_body_bytes=100)
    router.add(["PUT"], "/other", _nothing)
    assert router.max_body_bytes("GET", "/item") == 0
    assert router.max_body_bytes("POST", "/item") == 100
    assert router.max_body_bytes("DELETE", "/item") == 0  # 405: the least of the path's caps
    assert router.max_body_bytes("PUT", "/other") == DEFAULT_MAX_BODY_BYTES
    assert router.max_body_bytes("GET", "/nowhere") == DEFAULT_MAX_BODY_BYTES


def test_a_negative_cap_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="max_body_bytes must be 0 or more, not -1"):
        Router().add(["POST"], "/x", _nothing, max_body_bytes=-1)
