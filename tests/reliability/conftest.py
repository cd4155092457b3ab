"""Reliability tests: their figures, printed after the run (from RELIABILITY.md, which the tests
rewrite row by row, so the figures show whichever process ran them, pytest-xdist's workers too)."""

from __future__ import annotations

import pytest

from tests.reliability.report import REPORT, rows

_before: dict[str, str] = {}


def pytest_sessionstart(session: pytest.Session) -> None:
    _before.update(rows())


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    changed = [line for test, line in rows().items() if _before.get(test) != line]
    if not changed:
        return
    terminalreporter.section(f"reliability figures written to {REPORT.name}")
    for line in changed:
        terminalreporter.write_line(line)
