"""Reliability tests: their figures, printed after the run."""

from __future__ import annotations

import pytest

from tests.reliability.report import REPORT, recorded


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not recorded:
        return
    terminalreporter.section(f"reliability figures (also in {REPORT.name})")
    for row in recorded:
        figures = f"load {row.load}; faults {row.faults}; inputs {row.inputs}; lost {row.lost}"
        terminalreporter.write_line(f"{row.test}: {figures}")
