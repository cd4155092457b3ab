"""The listener: one port for WebSockets, @connections and the page; an orderly shutdown."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import ssl

from entrypoints.local_gateway.web.http_router import HttpRequest, HttpResponse, Router
from entrypoints.local_gateway.web.http_serving import serve_http
from entrypoints.local_gateway.websocket.handshake import serve_websocket
from entrypoints.local_gateway.websocket.runtime import Runtime

log = logging.getLogger("local_gateway")
# A burst of 1,000 simultaneous connects must not overflow the accept queue.
LISTEN_BACKLOG = 2048
SHUTDOWN_GRACE_SECONDS = 10.0


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before the handler is imported so its port is known."""
    return socket.create_server((host, port), backlog=LISTEN_BACKLOG)


class LocalGateway:
    """API Gateway's WebSocket API for one stage, served on a listening socket."""

    def __init__(
        self,
        runtime: Runtime,
        sock: socket.socket,
        router: Router,
        page: bool = True,
        tls: tuple[socket.socket, ssl.SSLContext] | None = None,
    ) -> None:
        """`router` holds the APIs served beside the WebSocket endpoint (@connections...);
        `tls`, a second listening socket that serves the same over TLS (https, wss)."""
        self.runtime = runtime
        self._sock = sock
        self._tls = tls
        self._tls_server: asyncio.Server | None = None
        self.host, self.port = sock.getsockname()[:2]
        self.router = router
        if page:
            self.router.add(("GET",), _page_pattern(), _page)
        else:
            self.router.add(("GET",), "/", self._index)
        self.router.add(("GET",), f"/{runtime.stage.name}/?", self._not_upgraded)
        self._server: asyncio.Server | None = None
        self._websockets: set[asyncio.Task[None]] = set()
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}

    @property
    def url(self) -> str:
        """The stage's URL: ws:// for clients, http:// for @connections (APIGW_ENDPOINT)."""
        return f"http://{self.host}:{self.port}/{self.runtime.stage.name}"

    @property
    def websocket_url(self) -> str:
        return "ws" + self.url.removeprefix("http")

    async def start(self) -> None:
        # asyncio calls listen() again on the socket it is given: pass the backlog there too.
        self._server = await asyncio.start_server(
            self._on_tcp, sock=self._sock, backlog=LISTEN_BACKLOG
        )
        if self._tls is not None:
            sock, context = self._tls
            self._tls_server = await asyncio.start_server(
                self._on_tcp, sock=sock, backlog=LISTEN_BACKLOG, ssl=context
            )

    async def _on_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections[task] = writer
        try:
            path = f"/{self.runtime.stage.name}"
            await serve_http(reader, writer, self.router, path, self._on_upgrade)
        except ConnectionError:
            pass  # the client went away mid-request: nothing to answer
        except Exception:
            log.exception("error on a connection from %s", writer.get_extra_info("peername"))
        finally:
            del self._connections[task]
            writer.close()

    async def _on_upgrade(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._websockets.add(task)
        try:
            await serve_websocket(self.runtime, reader, writer, head)
        finally:
            self._websockets.discard(task)

    async def _index(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse.text(
            200, f"Switchboard local gateway. Connect a WebSocket client to {self.websocket_url}\n"
        )

    async def _not_upgraded(self, request: HttpRequest) -> HttpResponse:
        text = f"This is a WebSocket endpoint: connect a WebSocket client to {self.websocket_url}\n"
        return HttpResponse(426, text.encode(), [("Upgrade", "websocket")])

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
        for server in (self._server, self._tls_server):
            if server is not None:
                server.close()
        # Idle keep-alive HTTP connections: drop them, and let their tasks end on their own.
        for writer in self._connections.values():
            writer.transport.abort()
        if self._connections:
            await asyncio.wait(set(self._connections), timeout=SHUTDOWN_GRACE_SECONDS)
        # Off the loop: a call still running may post in-process, which needs the loop, and a
        # join on the loop thread would hold both until the post timed out (29 s).
        await asyncio.to_thread(self.runtime.invoker.shutdown)
        log.info("stopped")


def _page_pattern() -> str:
    from entrypoints.local_gateway.web.page import PAGE_FILES

    # Only the page's own paths match: nothing else is served from disk.
    return "|".join(re.escape(path) for path in PAGE_FILES)


async def _page(request: HttpRequest) -> HttpResponse:
    from entrypoints.local_gateway.web.page import page_response

    found = page_response(request.path)
    if found is None:
        return HttpResponse.json(404, {"message": f"Nothing is served at {request.path}"})
    status, headers, body = found
    return HttpResponse(status, body, list(headers.items()))
