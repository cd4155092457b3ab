"""`serve` stops on SIGTERM even when its loop's self-pipe is full.

asyncio's own signal handling passes the signal through the loop's self-pipe, which
`call_soon_threadsafe` also writes to: with the pipe full (handler threads finishing many
invocations at once), the signal was dropped and `serve` ran on until killed.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# In a child process: the signal goes to it, never to the test runner.
SCRIPT = """
import asyncio, os, signal, sys, threading, time
from entrypoints.local_gateway.signals import stop_on_signals

async def main() -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def flood_then_signal() -> None:  # on the loop's thread, so nothing drains the pipe
        def flood() -> None:
            for _ in range(20_000):
                loop.call_soon_threadsafe(lambda: None)
        thread = threading.Thread(target=flood)
        thread.start()
        thread.join()
        os.kill(os.getpid(), signal.SIGTERM)

    with stop_on_signals(loop, stop):
        loop.call_soon(flood_then_signal)
        try:
            await asyncio.wait_for(stop.wait(), timeout=5)
        except TimeoutError:
            print("the signal was lost")
            sys.exit(3)
    print("stopped")

asyncio.run(main())
"""


def test_sigterm_stops_serve_while_the_loops_self_pipe_is_full() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stdout.strip()) == (0, "stopped"), done.stderr


SECOND = """
import asyncio, os, signal
from entrypoints.local_gateway.signals import stop_on_signals

async def main() -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    with stop_on_signals(loop, stop):
        os.kill(os.getpid(), signal.SIGTERM)
        await stop.wait()
        print("stopping", flush=True)
        os.kill(os.getpid(), signal.SIGTERM)  # a shutdown that takes long, and a second signal
        await asyncio.sleep(30)
    print("waited the shutdown out")

asyncio.run(main())
"""


def test_a_second_signal_ends_serve_without_waiting_for_the_shutdown() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SECOND], cwd=ROOT, capture_output=True, text=True, timeout=20
    )
    assert done.stdout.strip() == "stopping", done.stderr
    assert done.returncode == -signal.SIGTERM
    assert "second SIGTERM: stopping now" in done.stderr
