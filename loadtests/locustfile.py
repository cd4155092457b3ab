"""Locust scenarios for Switchboard over WebSocket: chat, storm and churn, with lost-message counts.

    .venv/bin/python -m locust -f loadtests/locustfile.py --headless -u 50 -r 10 -t 30s \\
        --host ws://127.0.0.1:8080/dev ChatUser        # or StormUser, ChurnUser

`switchboard loadtest` runs this for you. Run it single-process (no --processes, --master or
--worker): the lost-message count needs every room's senders and receivers in one process, and
delivery latency (receive time minus the send time in the message) is exact only when sender
and receiver share a clock. Rooms are `public:lt-<run>-<scenario>-<n>`, which the default token
grant (`public:*`) allows; a deployed stage's authorizer wants `--token` (or $SWITCHBOARD_TOKEN).
"""

from __future__ import annotations

import itertools
import random
import time
import uuid
from collections import defaultdict
from urllib.parse import urlencode, urlsplit, urlunsplit

import gevent
from locust import User, between, task
from locust.env import Environment
from run_hooks import LEDGER, RUN  # importing it registers the options, drain and summary
from ws_session import Session

RUN_ID = uuid.uuid4().hex[:8]  # keeps this run's rooms apart from any other run's
NUMBERS: defaultdict[str, itertools.count[int]] = defaultdict(itertools.count)


class SwitchboardUser(User):
    """A member of one room (chosen by the user's number), reporting as request type WS."""

    abstract = True
    scenario = ""
    room_size = 10
    send_interval = 3.0  # mean seconds between one sender's messages

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.options = environment.parsed_options
        self.number = next(NUMBERS[self.scenario])
        self.size = int(self._option("room_size", self.room_size))
        self.interval = self._option("send_interval", self.send_interval)
        self.room = f"public:lt-{RUN_ID}-{self.scenario}-{self.number // self.size}"
        self.session: Session | None = None

    def on_stop(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None

    def joined(self) -> bool:
        """A live session in the room, reconnecting (and rejoining) when the last one dropped."""
        if self.session is not None and self.session.open:
            return True
        self.on_stop()
        sender_id = f"{RUN_ID}-{self.scenario}-{self.number}"
        grace = float(getattr(self.options, "grace", 5.0))
        session = Session(self._url(), LEDGER, self._report, sender_id, grace)
        if session.connect() and session.join(self.room):
            self.session = session
            return True
        session.close()
        return False

    def send(self) -> None:
        if RUN["sending"] and self.session is not None:
            self.session.send()

    def pause(self) -> float:
        # Jitter around the mean keeps a room's senders from moving in lockstep.
        return random.uniform(0.5, 1.5) * self.interval

    def _url(self) -> str:
        token = getattr(self.options, "token", "")
        if not token:
            return str(self.host)
        parts = urlsplit(str(self.host))
        query = "&".join(q for q in (parts.query, urlencode({"token": token})) if q)
        return urlunsplit(parts._replace(query=query))

    def _option(self, name: str, default: float) -> float:
        value = getattr(self.options, name, 0)
        return float(value) if value and value > 0 else default

    def _report(self, name: str, ms: float, length: int, exc: BaseException | None) -> None:
        self.environment.events.request.fire(
            request_type="WS", name=name, response_time=ms, response_length=length,
            exception=exc, context={"scenario": self.scenario},
        )  # fmt: skip


class ChatUser(SwitchboardUser):
    """chat: rooms of 10 where every member sends every few seconds and gets every message."""

    scenario = "chat"

    def wait_time(self) -> float:
        return self.pause()

    def on_start(self) -> None:
        if self.joined():
            gevent.sleep(random.uniform(0, self.interval))  # spread the first sends

    @task
    def chat(self) -> None:
        if self.joined():
            self.send()


class StormUser(SwitchboardUser):
    """storm: rooms of 100; the room's first user sends twice a second, the others receive."""

    scenario = "storm"
    room_size = 100
    send_interval = 0.5

    def wait_time(self) -> float:
        return self.pause()

    def on_start(self) -> None:
        self.joined()

    @task
    def storm(self) -> None:
        if self.joined() and self.number % self.size == 0:
            self.send()


class ChurnUser(SwitchboardUser):
    """churn: connect, join, stay 2-10 s sending now and then, leave, close; and again."""

    scenario = "churn"
    send_interval = 2.0
    wait_time = between(0.1, 1.0)  # between visits

    @task
    def visit(self) -> None:
        if not self.joined() or self.session is None:
            return
        session = self.session
        leave_at = time.monotonic() + random.uniform(2.0, 10.0)
        while session.open and (left := leave_at - time.monotonic()) > 0:
            gevent.sleep(min(self.pause(), left))
            if session.open and time.monotonic() < leave_at:
                self.send()
        if session.open:
            session.leave()
        self.on_stop()
