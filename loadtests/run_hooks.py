"""The run around locust's users: extra options, the single-process guard, the drain, the summary.

At the end of the run senders stop, then the drain waits (at most --grace seconds) until every
expected delivery has arrived; whatever has not is lost. The summary (sent, expected, received,
lost, latency percentiles, errors) goes to the log, to --summary-json, and to locust's
statistics as one "lost" failure per lost delivery.
"""

# locust's EventHook.add_listener and .fire are untyped: calling them is what this file does.
# mypy: disable-error-code="no-untyped-call"
from __future__ import annotations

import json
import logging
import time
from typing import Any

import gevent
from delivery_ledger import Ledger
from locust import events
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner
from locust.stats import CSV_STATS_INTERVAL_SEC

log = logging.getLogger("switchboard.loadtest")
LEDGER = Ledger()
RUN: dict[str, Any] = {"started": 0.0, "ended": 0.0, "users": 0, "sending": True}


def _arguments(parser: Any) -> None:
    add = parser.add_argument
    add("--room-size", type=int, default=0, help="members per room (10; storm 100)")
    add("--send-interval", type=float, default=0.0, help="mean s between a sender's messages")
    add("--grace", type=float, default=5.0, help="s to wait for a message before it counts as lost")
    add("--summary-json", default="", help="write sent/expected/received/lost/latency here")
    add("--token", default="", env_var="SWITCHBOARD_TOKEN", is_secret=True, help="JWT for ?token=")


def _single_process_only(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, MasterRunner | WorkerRunner):
        raise SystemExit("loadtests/locustfile.py counts lost messages per process: run it alone")


def _clock_brought_up_to_date(**_: Any) -> None:
    # gevent's loop clock was last read before imports that take seconds: -t (which locust
    # times on that clock) would end the run that much early. Read it afresh before -t starts.
    gevent.get_hub().loop.update_now()


def _started(**_: Any) -> None:
    RUN["started"] = time.monotonic()


def _stopping(environment: Environment, **_: Any) -> None:
    """Stop sending, then wait (at most --grace s) for what was sent to arrive: the drain."""
    RUN["ended"] = ended = time.monotonic()
    RUN["users"] = environment.runner.user_count if environment.runner else 0
    RUN["sending"] = False
    deadline = ended + float(getattr(environment.parsed_options, "grace", 5.0))
    while LEDGER.missing(ended) and time.monotonic() < deadline:
        gevent.sleep(0.25)


def _summarize(environment: Environment, **_: Any) -> None:
    options = environment.parsed_options
    ended = RUN["ended"] or time.monotonic()
    summary = LEDGER.summary(RUN["started"], ended)
    summary["users"] = RUN["users"]
    for _lost in range(summary["lost"]):
        environment.events.request.fire(
            request_type="WS", name="lost", response_time=0, response_length=0,
            exception=Exception("sent while the receiver was a member, never delivered"),
            context={},
        )  # fmt: skip
    log.info("delivery summary: %s", json.dumps(summary))
    path = getattr(options, "summary_json", "")
    if path:
        with open(path, "w") as handle:
            json.dump(summary, handle, indent=2)
    if getattr(options, "csv_prefix", None):
        # locust rewrites its CSV files every CSV_STATS_INTERVAL_SEC: let it take in the above.
        gevent.sleep(CSV_STATS_INTERVAL_SEC + 0.2)


# Registered by plain calls, not decorators: locust's EventHook methods carry no types.
events.init_command_line_parser.add_listener(_arguments)
events.init.add_listener(_single_process_only)
events.init.add_listener(_clock_brought_up_to_date)
events.test_start.add_listener(_started)
events.test_stopping.add_listener(_stopping)
events.test_stop.add_listener(_summarize)
