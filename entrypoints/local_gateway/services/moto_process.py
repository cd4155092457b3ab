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
    import logging
    import threading

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    app = DomainDispatcherApplication(create_backend_app)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log line per call
    # Ctrl-C reaches the whole process group: the gateway shuts down first, then closes stdin.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # One request at a time, in the order they came: moto's models are not thread-safe (with
    # a thread per request, a Query iterating a table while a PutItem added to it raised
    # "dictionary changed size during iteration", a 500, in the churn test), and a lock
    # around them let some requests wait far longer than others.
    server = make_server("127.0.0.1", 0, app, False, request_handler=MotoRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    print(f"http://{host!s}:{port}", flush=True)
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    _serve()
