"""Locust scenarios for Switchboard over WebSocket: chat, storm, churn and recovery, with
lost-message counts.

    .venv/bin/python -m locust -f loadtests/locustfile.py --headless -u 50 -r 10 -t 30s \\
        --host ws://127.0.0.1:8080/dev ChatUser   # or StormUser, ChurnUser, RecoveryUser

`switchboard loadtest` runs this for you. Run it single-process (no --processes, --master or
--worker): the lost-message count needs every room's senders and receivers in one process, and
delivery latency (receive time minus the send time in the message) is exact only when sender
and receiver share a clock. Rooms are `public:lt-<run>-<scenario>-<n>`, which the default token
grant (`public:*`) allows; a deployed stage's authorizer wants `--token` (or $SWITCHBOARD_TOKEN).
"""

from __future__ import annotations

import random
import time

import gevent
from locust import between, task
from locust_user import SwitchboardUser
from run_hooks import RUN


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


class RecoveryUser(SwitchboardUser):
    """recovery: rooms of 10, everyone sends every 1-3 s. After 3-8 s online a member's socket
    drops without a close frame; it stays away 0.5-3 s while the room sends on, then reconnects
    and rejoins with since = its watermark: what it missed is replayed."""

    scenario = "recovery"
    send_interval = 2.0
    recovers = True
    online_s = (3.0, 8.0)
    away_s = (0.5, 3.0)

    def wait_time(self) -> float:
        return self.pause()

    def on_start(self) -> None:
        self.drop_at = time.monotonic() + random.uniform(*self.online_s)
        if self.joined():
            gevent.sleep(random.uniform(0, self.interval))  # spread the first sends

    @task
    def recover(self) -> None:
        if self.session is None or not self.session.open:
            self._rejoin()
        elif RUN["sending"] and time.monotonic() >= self.drop_at:
            # A task follows a full wait since this user's last send: that send has landed.
            self.session.drop()
            self.session = None
            gevent.sleep(random.uniform(*self.away_s))
            self._rejoin()
        else:
            self.send()

    def _rejoin(self) -> None:
        if self.joined():
            self.drop_at = time.monotonic() + random.uniform(*self.online_s)
