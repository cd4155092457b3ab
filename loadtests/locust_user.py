"""The locust user every scenario builds on: one member of one room, on one session at a time."""

from __future__ import annotations

import itertools
import random
import uuid
from collections import defaultdict
from urllib.parse import urlencode, urlsplit, urlunsplit

from delivery_ledger import Membership
from locust import User
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
    # A user that rejoins with since (recovery) stays one member across its connections.
    recovers = False

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.options = environment.parsed_options
        self.number = next(NUMBERS[self.scenario])
        self.size = int(self._option("room_size", self.room_size))
        self.interval = self._option("send_interval", self.send_interval)
        self.room = f"public:lt-{RUN_ID}-{self.scenario}-{self.number // self.size}"
        self.session: Session | None = None
        self.member: Membership | None = None

    def on_stop(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None

    def joined(self) -> bool:
        """A live session in the room, reconnecting (and rejoining) when the last one dropped:
        a user that recovers rejoins with since = its watermark, any other joins afresh."""
        if self.session is not None and self.session.open:
            return True
        self.on_stop()
        sender_id = f"{RUN_ID}-{self.scenario}-{self.number}"
        grace = float(getattr(self.options, "grace", 5.0))
        member = self.member if self.recovers else None
        session = Session(
            self._url(), LEDGER, self._report, sender_id, grace, member, self.recovers
        )
        since = member.watermark if member is not None else None
        if session.connect() and session.join(self.room, since):
            self.session, self.member = session, session.member
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
