"""How `serve` stops: the first SIGINT or SIGTERM asks for an orderly shutdown, a second one
ends the process at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Iterator
from types import FrameType

log = logging.getLogger("local_gateway")


@contextlib.contextmanager
def stop_on_signals(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set `stop`, however busy the loop is.

    Not `loop.add_signal_handler`: asyncio passes the signal's number through its self-pipe,
    which every `call_soon_threadsafe` writes to as well. When the clients of a load test all
    left at once, the handler threads finishing 1,000 $disconnects filled that pipe, and a
    SIGTERM sent then was dropped ("Exception ignored when trying to write to the signal wakeup
    fd"; python/cpython#74224): `serve` ran on until killed. A Python-level handler only
    schedules the stop; the callback waits in the loop's queue, and the pipe, full or not,
    wakes the loop. A second signal does not wait for the orderly shutdown: the process ends
    at once, as the signal's default action would end it.
    """
    received: list[int] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if received:
            name = signal.Signals(signum).name
            log.warning("second %s: stopping now, without the remaining $disconnects", name)
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        received.append(signum)
        loop.call_soon_threadsafe(stop.set)

    previous = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError):  # only the main thread may set handlers
            previous[signum] = signal.signal(signum, on_signal)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
