"""DynamoDB for `serve --store dynamodb` without an endpoint: moto's server in its own process.

In the gateway's process, moto's request handling would share one interpreter lock with the
event loop and the handler threads; under load it starved both. In a child process it has a
core of its own. The child prints its URL, then lives until its stdin closes, which happens
when the gateway exits however it exits, so it never outlives the gateway.
"""

from __future__ import annotations

import contextlib
import selectors
import signal
import subprocess
import sys
from collections.abc import Iterator

START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0


class MotoStartError(RuntimeError):
    """The moto server did not start; the message says what it printed."""


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """A moto server on a free loopback port, for the life of the block; yields its URL."""
    command = [sys.executable, "-m", __name__]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdin is not None and process.stdout is not None
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            ready = selector.select(START_TIMEOUT_SECONDS)
        url = process.stdout.readline().strip() if ready else ""
        if not url.startswith("http://"):
            raise MotoStartError(f"moto did not start within {START_TIMEOUT_SECONDS:.0f} s")
        yield url
    finally:
        process.stdin.close()  # the child's cue to stop
        try:
            process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT_SECONDS)


def _serve() -> None:
    from moto.server import ThreadedMotoServer

    # Ctrl-C reaches the whole process group: the gateway shuts down first, then closes stdin.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    print(f"http://{host}:{port}", flush=True)
    sys.stdin.read()
    server.stop()


if __name__ == "__main__":
    _serve()
