"""RESULTS.md: each benchmark replaces its own section, with the machine and date on top; and
the time limit every benchmark runs under."""

from __future__ import annotations

import os
import platform
import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")
HEADER = (
    "# Benchmark results\n\n"
    "Written by the benchmarks themselves; rerun one to refresh its section.\n"
)


def machine_line() -> str:
    cpu = platform.processor() or platform.machine()
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"Machine: {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; run {when}."
    )


def write_section(title: str, body: str) -> None:
    """Replace (or append) the section `## title` in RESULTS.md."""
    text = RESULTS.read_text() if RESULTS.exists() else HEADER
    section = f"## {title}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(text.rstrip("\n") + "\n")


def publish(title: str, body: str, write: bool = True) -> None:
    """Print a benchmark's section; with `write`, also make it RESULTS.md's `## title`."""
    print("\n" + body)
    if write:
        write_section(title, body)
        print("\nwrote loadtests/RESULTS.md")


@contextmanager
def time_limit(seconds: int, what: str = "the benchmark") -> Iterator[None]:
    """Raise TimeoutError in the main thread once `seconds` have passed: an exception, not the
    default kill, so the `with` blocks on its way out stop every server and client started."""

    def on_alarm(signum: int, frame: object) -> None:
        raise TimeoutError(f"{what} ran past {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
