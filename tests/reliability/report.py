"""Keeps tests/RELIABILITY.md current: each reliability test replaces its own row of the table."""

from __future__ import annotations

import fcntl
import os
from dataclasses import astuple, dataclass
from pathlib import Path

REPORT = Path(__file__).resolve().parents[1] / "RELIABILITY.md"
# Rows in this order whatever order the tests ran in, so the file only changes with the figures.
ORDER = (
    "churn, memory store",
    "churn, DynamoDB store",
    "lost `$disconnect`, then a broadcast",
    "lost `$disconnect`, no broadcast",
    "handler that raises",
    "fuzzed frames through the gateway",
    "fuzzed events into the handler",
    "flood from one client",
    "shard paused for time",
    "gone connections pruned under the deadline",
)
INTRO = """# Reliability, measured

Written by the tests in `tests/reliability` (each replaces its own row through
`tests/reliability/report.py`): run `.venv/bin/pytest tests/reliability` to refresh it.
Every row is a test that fails when anything is lost, so a row here means it held.

| test | load held | faults injected | bad inputs tried | lost |
|---|---|---|---|---|
"""


@dataclass(frozen=True)
class Row:
    test: str
    load: str
    faults: str
    inputs: str
    lost: str

    def line(self) -> str:
        return "| " + " | ".join(cell.replace("|", "/") for cell in astuple(self)) + " |"


def record(row: Row) -> None:
    """Replace `row.test`'s row of the table (or add it), keeping the rows in ORDER."""
    # Tests run in parallel processes (pytest-xdist): one rewrite of the file at a time.
    with open(REPORT.with_suffix(".md.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        table = rows()
        table[row.test] = row.line()
        text = INTRO + "".join(table[test] + "\n" for test in sorted(table, key=_rank))
        partial = REPORT.with_suffix(".md.partial")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, REPORT)  # never a half-written file, even if the run is killed


def _rank(test: str) -> tuple[int, str]:
    """A row's place: by ORDER, whichever form (full or short) of the test wrote it."""
    place = next((n for n, name in enumerate(ORDER) if test.startswith(name)), len(ORDER))
    return place, test


def rows() -> dict[str, str]:
    """The table's rows by test, as the file holds them now."""
    if not REPORT.exists():
        return {}
    found: dict[str, str] = {}
    for line in REPORT.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| ") and cells[0] not in ("test", "---") and len(cells) == 5:
            found[cells[0]] = line
    return found
