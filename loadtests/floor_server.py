"""The floor: the simplest WebSocket server that relays each text frame to every client itself.

No Lambda, no store, no @connections call: what broadcasting costs with `websockets` alone,
so the benchmarks can say how far `switchboard serve` is from it. Prints its URL, then serves
until SIGINT or SIGTERM. Loopback only.

    .venv/bin/python loadtests/floor_server.py [--port 0]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource
import signal

from websockets.asyncio.server import ServerConnection, broadcast, serve

CLIENTS: set[ServerConnection] = set()


async def relay(connection: ServerConnection) -> None:
    CLIENTS.add(connection)
    try:
        async for message in connection:
            if isinstance(message, str):
                # Writes the frame to each socket's buffer now; no task, no await per client.
                broadcast(CLIENTS, message)
    finally:
        CLIENTS.discard(connection)


async def main(port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    # Like the local gateway: no permessage-deflate, no keepalive pings, a deep accept queue.
    async with serve(
        relay, "127.0.0.1", port, compression=None, ping_interval=None, backlog=2048
    ) as server:
        bound = next(iter(server.sockets)).getsockname()[1]
        print(f"ws://127.0.0.1:{bound}/", flush=True)
        await stop.wait()


def raise_open_files_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1; 0 picks one")
    raise_open_files_limit()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(parser.parse_args().port))
