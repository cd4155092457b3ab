"""Reliability tests: room for thousands of sockets, and their figures after the run."""

from __future__ import annotations

import pytest

from tests.reliability.report import REPORT, recorded


@pytest.fixture(scope="session", autouse=True)
def _open_files_limit() -> None:
    # The churn test holds hundreds of sockets at once, and opens thousands in all.
    try:
        import resource
    except ImportError:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not recorded:
        return
    terminalreporter.section(f"reliability figures (also in {REPORT.name})")
    for row in recorded:
        figures = f"load {row.load}; faults {row.faults}; inputs {row.inputs}; lost {row.lost}"
        terminalreporter.write_line(f"{row.test}: {figures}")
