"""py-spy attached to a running server: one recording's files, and the server's CPU meanwhile."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from contenders import ROOT, Server
from machine_load import process_cpu_split
from profile_summary import summarize

PY_SPY = str(ROOT / ".venv" / "bin" / "py-spy")
RATE_HZ = 250
ATTACH_S = 1.0  # py-spy needs a moment to attach before the work it should see
STOP_TIMEOUT_S = 60.0


@dataclass
class Recording:
    """One py-spy recording: its files' stem, and the server's CPU while it ran."""

    stem: Path
    user_s: float = 0.0
    system_s: float = 0.0
    wall_s: float = 0.0

    def summary(self) -> str:
        samples = sum(int(line.rsplit(" ", 1)[1]) for line in self.collapsed().open())
        return (
            f"{self.stem.name}: server CPU {self.user_s:.2f} s user + {self.system_s:.2f} s "
            f"system in {self.wall_s:.2f} s; GIL held in {samples / RATE_HZ:.2f} s of samples\n"
            + summarize(self.collapsed())
        )

    def collapsed(self) -> Path:
        return self.stem.with_suffix(".collapsed")


@contextmanager
def py_spy(server: Server, fmt: str, recording: Recording | None) -> Iterator[None]:
    """py-spy records the server while the block runs (raw: collapsed stacks; or an SVG)."""
    if recording is None:
        yield
        return
    output = recording.stem.with_suffix(".collapsed" if fmt == "raw" else ".svg")
    command = [PY_SPY, "record", "--pid", str(server.pid), "--rate", str(RATE_HZ)]
    command += ["--gil", "--nonblocking", "--format", fmt, "--output", str(output)]
    spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(ATTACH_S)
    (user, system), started = process_cpu_split(server.pid), time.monotonic()
    try:
        yield
    finally:
        user_1, system_1 = process_cpu_split(server.pid)
        recording.user_s, recording.system_s = user_1 - user, system_1 - system
        recording.wall_s = time.monotonic() - started
        spy.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
        _, errors = spy.communicate(timeout=STOP_TIMEOUT_S)
    if not output.exists():
        raise RuntimeError(f"py-spy wrote no {output.name}: {errors.strip()}")
