"""Keeps tests/RELIABILITY.md current: each reliability test replaces its own row of the table."""

from __future__ import annotations

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
)
INTRO = """# Reliability, measured

Written by the tests in `tests/reliability` (each replaces its own row through
`tests/reliability/report.py`): run `.venv/bin/pytest tests/reliability` to refresh it.
Every row is a test that fails when anything is lost, so a row here means it held.

| test | load held | faults injected | bad inputs tried | lost |
|---|---|---|---|---|
"""
# What this session's tests recorded, for the terminal summary (see conftest.py).
recorded: list[Row] = []


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
    recorded.append(row)
    rows = _rows()
    rows[row.test] = row.line()
    ranked = sorted(rows, key=lambda t: (ORDER.index(t) if t in ORDER else len(ORDER), t))
    text = INTRO + "".join(rows[test] + "\n" for test in ranked)
    partial = REPORT.with_suffix(".md.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, REPORT)  # never a half-written file, even if the run is killed


def _rows() -> dict[str, str]:
    if not REPORT.exists():
        return {}
    rows: dict[str, str] = {}
    for line in REPORT.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| ") and cells[0] not in ("test", "---") and len(cells) == 5:
            rows[cells[0]] = line
    return rows
