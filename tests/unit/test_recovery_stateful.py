"""Recovery as a state machine: any interleaving of sends, disconnects, reconnects that join
with `since`, and time passing (trims by size, expiry by time), over both stores.

A client that got `recovered:true` has then seen every seq from its `since` to the room's latest
exactly once after deduplicating by seq; one that got `recovered:false` was told so exactly when
the history no longer held what it missed.
"""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import dataclass, field

import boto3
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule
from moto import mock_aws

from adapters import memory
from adapters.dynamodb import open_storage
from domain.fanout import Fanout
from domain.history import HistoryPolicy
from domain.ports import Storage
from domain.service import Limits, Switchboard
from infra.tables import ensure_table
from tests.doubles import FakeClock, FakePublisher

ROOMS = ("a", "b")
KEEP = HistoryPolicy(size=4, ttl=30)


@dataclass
class Client:
    """A user's view: its connection (None while away), and the seqs it has seen per room."""

    connection_id: str | None
    seen: dict[str, list[int]] = field(default_factory=lambda: {r: [] for r in ROOMS})

    def last(self, room: str) -> int:
        return max(self.seen[room], default=0)


class RecoveryMachine(RuleBasedStateMachine):
    STORE = "memory"

    def __init__(self) -> None:
        super().__init__()
        self.clients: list[Client] = []
        self.sent_at: dict[str, list[float]] = {r: [] for r in ROOMS}  # by seq - 1
        self.ids = itertools.count()

    @initialize(clients=st.integers(2, 3))
    def start(self, clients: int) -> None:
        self.storage = self._storage()
        self.clock, self.publisher = FakeClock(), FakePublisher()
        fanout = Fanout(self.storage.connections, self.publisher, self.clock, rng=random.Random(0))
        self.board = Switchboard(
            self.storage.connections, fanout, self.clock, logs=self.storage.logs,
            limits=Limits(history=KEEP),
        )  # fmt: skip
        for _ in range(clients):
            client = Client(None)
            self.clients.append(client)
            self._connect(client, since=False)

    def _storage(self) -> Storage:
        return memory.open_storage()

    def teardown(self) -> None:
        pass

    # -- what a client does ---------------------------------------------------------------------

    def _connect(self, client: Client, since: bool) -> None:
        client.connection_id = cid = f"c{next(self.ids)}="
        self.board.connect(cid, int(self.clock.now() * 1000))
        for room in ROOMS:
            body = {"room": room, **({"since": client.last(room)} if since else {})}
            before = client.last(room)
            self.board.on_message(cid, "join", json.dumps(body))
            self._read(client)
            if since:
                self._check_recovery(client, room, before)

    def _read(self, client: Client) -> None:
        """Take what arrived for the client's connection, as a client does: by seq, once."""
        assert client.connection_id is not None
        self.replies: list[dict[str, object]] = []
        for payload in self.publisher.sent.pop(client.connection_id, []):
            frame = json.loads(payload)
            if frame["type"] == "message":
                room, seq = frame["room"], frame["seq"]
                if seq not in client.seen[room]:  # dedupe by seq
                    client.seen[room].append(seq)
            elif frame["type"] == "joined":
                self.replies.append(frame)

    def _check_recovery(self, client: Client, room: str, since: int) -> None:
        [joined] = [r for r in self.replies if r["room"] == room]
        last = len(self.sent_at[room])
        kept = since <= last and since + 1 >= KEEP.first_kept(last)
        if since < last:  # and none of what it missed has expired
            kept = kept and self.sent_at[room][since] + KEEP.ttl > self.clock.now()
        assert joined["recovered"] is kept, (room, since, last, joined)
        if kept:
            assert sorted(s for s in client.seen[room] if s > since) == list(
                range(since + 1, last + 1)
            )
        else:  # told to reload: the app's state stands in for the history
            client.seen[room] = list(range(1, last + 1))

    # -- rules ----------------------------------------------------------------------------------

    @rule(who=st.integers(0, 2), room=st.sampled_from(ROOMS))
    def send(self, who: int, room: str) -> None:
        client = self.clients[who % len(self.clients)]
        if client.connection_id is None:
            return
        body = json.dumps({"action": "sendmessage", "room": room, "data": "x"})
        assert self.board.on_message(client.connection_id, "sendmessage", body).error is None
        self.sent_at[room].append(self.clock.now())
        for other in self.clients:
            if other.connection_id is not None:
                self._read(other)  # everyone connected hears it live

    @rule(who=st.integers(0, 2))
    def disconnect(self, who: int) -> None:
        client = self.clients[who % len(self.clients)]
        if client.connection_id is not None:
            self.board.disconnect(client.connection_id)
            self.publisher.sent.pop(client.connection_id, None)
            client.connection_id = None

    @rule(who=st.integers(0, 2))
    def reconnect(self, who: int) -> None:
        client = self.clients[who % len(self.clients)]
        if client.connection_id is None:
            self._connect(client, since=True)

    @rule(seconds=st.sampled_from([1, 10, 40]))
    def time_passes(self, seconds: int) -> None:
        self.clock.advance(seconds)

    @precondition(lambda self: hasattr(self, "board"))
    @rule()
    def connected_clients_have_seen_everything_since_they_joined(self) -> None:
        for client in self.clients:
            if client.connection_id is not None:
                for room in ROOMS:
                    seen = client.seen[room]
                    assert len(seen) == len(set(seen))  # exactly once


RecoveryMachine.TestCase.settings = settings(
    max_examples=100, stateful_step_count=40, deadline=None
)
TestRecoveryInMemory = RecoveryMachine.TestCase


class DynamoRecoveryMachine(RecoveryMachine):
    """The same over the DynamoDB store (moto): fewer examples, each one slower."""

    def _storage(self) -> Storage:
        self._mock = mock_aws()
        self._mock.start()
        ensure_table(boto3.client("dynamodb", region_name="us-east-1"), "recovery")
        return open_storage("us-east-1", None, "recovery")

    def teardown(self) -> None:
        if hasattr(self, "_mock"):
            self._mock.stop()


DynamoRecoveryMachine.TestCase.settings = settings(
    max_examples=15, stateful_step_count=25, deadline=None
)
TestRecoveryOnDynamoDB = DynamoRecoveryMachine.TestCase
