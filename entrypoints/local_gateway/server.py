"""The listener: one port for WebSockets, @connections and the page; an orderly shutdown."""

from __future__ import annotations

import asyncio
import logging
import socket

from entrypoints.local_gateway import management_api
from entrypoints.local_gateway.http_router import HttpRequest, HttpResponse, Router, serve_http
from entrypoints.local_gateway.runtime import Runtime
from entrypoints.local_gateway.websocket import serve_websocket

log = logging.getLogger("switchboard.gateway")
# A burst of 1,000 simultaneous connects must not overflow the accept queue.
LISTEN_BACKLOG = 2048
SHUTDOWN_GRACE_SECONDS = 10.0


class LocalGateway:
    """API Gateway's WebSocket API for one stage, on host:port."""

    def __init__(self, runtime: Runtime, host: str = "127.0.0.1", port: int = 8080) -> None:
        self.runtime = runtime
        self.host = host
        self.port = port
        self.router = Router()
        management_api.register(self.router, runtime)
        self.router.add(("GET",), "/", self._index)
        self._server: asyncio.Server | None = None
        self._websockets: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        """The stage's URL: ws:// for clients, http:// for @connections (APIGW_ENDPOINT)."""
        return f"http://{self.host}:{self.port}/{self.runtime.stage.name}"

    @property
    def websocket_url(self) -> str:
        return "ws" + self.url.removeprefix("http")

    async def start(self) -> None:
        sock = socket.create_server((self.host, self.port), backlog=LISTEN_BACKLOG)
        self._server = await asyncio.start_server(self._on_tcp, sock=sock)
        self.port = sock.getsockname()[1]  # the real one when asked for port 0

    async def _on_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            path = f"/{self.runtime.stage.name}"
            await serve_http(reader, writer, self.router, path, self._on_upgrade)
        except ConnectionError:
            pass  # the client went away mid-request: nothing to answer
        except Exception:
            log.exception("error on a connection from %s", writer.get_extra_info("peername"))
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _on_upgrade(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._websockets.add(task)  # type: ignore[arg-type]
        try:
            await serve_websocket(self.runtime, reader, writer, head)
        finally:
            self._websockets.discard(task)  # type: ignore[arg-type]

    async def _index(self, request: HttpRequest) -> HttpResponse:
        # A hook: issue 8 serves its chat page here.
        return HttpResponse.text(
            200, f"Switchboard local gateway. Connect a WebSocket client to {self.websocket_url}\n"
        )

    async def shutdown(self) -> None:
        """Close every socket with 1001, run each $disconnect, then stop listening."""
        self.runtime.closing = True
        open_connections = list(self.runtime.registry)
        log.info("shutting down: closing %d connections with 1001", len(open_connections))
        for connection in open_connections:
            connection.wire.close(1001, "Going away")
        sessions = set(self._websockets)
        if sessions:
            # The listener stays up meanwhile: $disconnect handlers may still call @connections.
            _, late = await asyncio.wait(sessions, timeout=SHUTDOWN_GRACE_SECONDS)
            for connection in self.runtime.registry:
                connection.wire.abort()
            if late:
                await asyncio.wait(late, timeout=SHUTDOWN_GRACE_SECONDS)
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        self.runtime.invoker.shutdown()
        log.info("stopped")
