"""A fast @connections sink for benchmarks: answers every request 200 at once, in its own process.

Run: python loadtests/sink_server.py [--port 0]; prints the port it listens on (127.0.0.1),
then serves until stdin closes, so the parent's exit (or its closing the pipe) stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from aiohttp import web


async def _ok(request: web.BaseRequest) -> web.Response:
    await request.read()  # drain the body so the connection can be reused
    return web.Response(status=200)


async def _serve(port: int) -> None:
    # The low-level server: no router, no middlewares, the least CPU per request aiohttp has.
    server = web.Server(_ok, access_log=None)
    loop = asyncio.get_running_loop()
    listener = await loop.create_server(server, "127.0.0.1", port, backlog=4096)
    print(listener.sockets[0].getsockname()[1], flush=True)
    # Stop when the parent closes our stdin (or dies): no orphaned sinks.
    await loop.run_in_executor(None, sys.stdin.read)
    listener.close()
    await server.shutdown(1.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    args = parser.parse_args()
    asyncio.run(_serve(args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
