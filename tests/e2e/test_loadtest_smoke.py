"""Smoke runs of `switchboard loadtest` against a local gateway it starts: 10 s per scenario (20 s
for recovery) in a full soak run, 5 s (8 s) in `make test`'s short form (tests/soak.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.gateway_process import ROOT, start_gateway
from tests.soak import scaled

USERS = 30
DURATION = scaled("10s", "5s")
# Members drop after 3-8 s online: long enough a run for most of them to drop and rejoin.
RECOVERY_DURATION = scaled("20s", "8s")


def loadtest(results: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """Run the command as a user does; its exit, and the summary it wrote for the run."""
    command = [sys.executable, "-m", "entrypoints.cli", "loadtest", "--results", str(results)]
    done = subprocess.run(
        [*command, *args], cwd=ROOT, capture_output=True, text=True, timeout=150, check=False
    )
    runs = list(results.glob("*/summary.json"))
    assert len(runs) == 1, f"no summary:\n{done.stdout}\n{done.stderr}\n{_logs(results)}"
    return done, json.loads(runs[0].read_text())


def _logs(results: Path) -> str:
    return "\n".join(p.read_text(errors="replace")[-3000:] for p in results.glob("*/locust.log"))


@pytest.mark.soak
@pytest.mark.timeout(200)
@pytest.mark.parametrize("scenario", ["chat", "storm", "churn"])
def test_a_short_run_delivers_every_message_without_errors(scenario: str, tmp_path: Path) -> None:
    done, summary = loadtest(
        tmp_path, "--users", str(USERS), "--spawn-rate", str(USERS), "--duration", DURATION,
        "--scenario", scenario,
    )  # fmt: skip
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}\n{_logs(tmp_path)}"
    assert summary["errors"] == 0, summary["errors_by_kind"]
    assert summary["lost"] == 0, summary["lost_sample"]
    assert summary["users"] == USERS
    assert summary["sent"] > 0 and summary["expected"] > 0
    assert summary["received"] >= summary["expected"]
    assert summary["latency_ms"]["p99"] is not None
    assert f"| {scenario} | {USERS} |" in done.stdout  # the printed table
    run_dir = Path(summary["results"])
    assert "WS,deliver," in (run_dir / "locust_stats.csv").read_text()
    assert (run_dir / "report.html").stat().st_size > 0


@pytest.mark.timeout(200)
def test_messages_the_backend_drops_are_counted_lost(tmp_path: Path) -> None:
    gateway = start_gateway(tmp_path / "gateway", handler="tests.e2e.lossy_handler:handler")
    try:
        done, summary = loadtest(
            tmp_path / "results", "--host", gateway.ws_url, "--users", "10",
            "--spawn-rate", "10", "--duration", "6s", "--send-interval", "0.5",
        )  # fmt: skip
    finally:
        gateway.stop()
    assert done.returncode == 1
    assert summary["errors"] == 0
    # Every fifth send is dropped, so about a fifth of the expected deliveries never come.
    assert 0 < summary["lost"] < summary["expected"]
    assert summary["lost_sample"]
    assert "lost" in done.stdout


@pytest.mark.soak
@pytest.mark.timeout(200)
def test_members_that_drop_get_what_they_missed_replayed_when_they_rejoin(tmp_path: Path) -> None:
    done, summary = loadtest(
        tmp_path, "--users", str(USERS), "--spawn-rate", str(USERS), "--duration",
        RECOVERY_DURATION, "--scenario", "recovery",
    )  # fmt: skip
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}\n{_logs(tmp_path)}"
    assert summary["errors"] == 0, summary["errors_by_kind"]
    assert summary["lost"] == 0, summary["lost_sample"]
    assert summary["rejoins"]["recovered"] > 0
    assert summary["replayed"] > 0
    assert summary["received"] >= summary["expected"] > 0
    assert "rejoins" in done.stdout and "replayed" in done.stdout


@pytest.mark.timeout(200)
def test_a_replay_that_skips_a_message_is_counted_lost(tmp_path: Path) -> None:
    handler = "tests.e2e.skipping_replay_handler:handler"
    gateway = start_gateway(tmp_path / "gateway", handler=handler)
    try:
        done, summary = loadtest(
            tmp_path / "results", "--host", gateway.ws_url, "--users", "10", "--spawn-rate",
            "10", "--duration", RECOVERY_DURATION, "--send-interval", "1", "--scenario", "recovery",
        )  # fmt: skip
    finally:
        gateway.stop()
    assert done.returncode == 1
    assert summary["errors"] == 0, summary["errors_by_kind"]
    assert summary["rejoins"]["recovered"] > 0
    assert 0 < summary["lost"] < summary["expected"]
    assert summary["unrecoverable"] == 0  # the server said recovered: a skip is a loss


def test_a_plain_ws_host_off_loopback_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", "loadtest", "--host", "ws://10.0.0.1/dev",
         "--results", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "loopback" in done.stderr
    assert not list(tmp_path.iterdir())  # nothing was started or written
