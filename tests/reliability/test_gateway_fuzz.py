"""Fuzzed frames through `switchboard serve`: no 5xx, no broken connection, no stray frames.

One client sends hypothesis's frames; a bystander on another connection must see exactly what
the protocol documents for each (frames.bystander_sees) and nothing else. The sender must never
get API Gateway's failure frames, and stays connected unless its frame broke the 32 KB frame
limit, which closes it with 1009 (it then reconnects).
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings

from domain.limits import MAX_FRAME_BYTES
from tests.e2e.gateway_process import Gateway, start_gateway
from tests.reliability import gateway_checks as checks
from tests.reliability.frames import Envelope, bystander_sees, frames
from tests.reliability.report import Row, record
from tests.reliability.ws_client import Client

T = TypeVar("T")
EXAMPLES = 150
FAILURE_FRAMES = ("Internal server error", "Endpoint request timed out")
tally: Counter[str] = Counter()


class Session:
    """A sender and a bystander on an event loop of their own, so an example is one call."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.sender = self.call(self._client())
        self.bystander = self.call(self._client())

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    async def _client(self) -> Client:
        return await Client.open(self.url, max_size=None)

    async def exchange(self, frame: str) -> tuple[int | None, list[str], list[str]]:
        """Send `frame`; the sender's close code (None: open), and each side's new frames."""
        sender, bystander = self.sender, self.bystander
        sent_before, seen_before = len(sender.frames), len(bystander.frames)
        await sender.send(frame)
        code = None
        if len(frame.encode()) > MAX_FRAME_BYTES:
            code = await sender.closed_code()
            self.sender = await self._client()
        else:
            await sender.sync()  # the frame has been handled, whatever it caused
        await bystander.sync()  # and whatever was posted to the bystander, read
        return code, sender.frames[sent_before:], bystander.frames[seen_before:]

    def close(self) -> None:
        for client in (self.sender, self.bystander):
            self.call(client.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    # One sender sends 150 frames as fast as it can: no message budget (MESSAGE_RATE=0) here,
    # where frames are what is tried; the flood test tries the budget.
    running = start_gateway(
        tmp_path_factory.mktemp("fuzz"),
        handler="entrypoints.aws_lambda:handler",
        environment={"MESSAGE_RATE": "0"},
    )
    yield running
    assert running.stop() == 0, running.log()[-3000:]


@pytest.fixture(scope="module")
def session(gateway: Gateway) -> Iterator[Session]:
    opened = Session(gateway.ws_url)
    yield opened
    opened.close()


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(frame=frames)
def test_fuzzed_frames_break_nothing(session: Session, frame: str) -> None:
    code, to_sender, to_bystander = session.call(session.exchange(frame))
    expected = bystander_sees(frame)
    if isinstance(expected, Envelope):
        assert len(to_bystander) == 1, to_bystander
        assert expected.matches(to_bystander[0], session.sender.connection_id), to_bystander
    else:
        assert to_bystander == ([] if expected is None else [expected])
    assert not [
        f
        for f in to_sender
        if f.startswith('{"message"') and any(failure in f for failure in FAILURE_FRAMES)
    ]
    if len(frame.encode()) > MAX_FRAME_BYTES:
        assert code == 1009
    else:
        assert code is None
    tally["frames"] += 1
    tally["over the frame limit"] += code is not None
    tally["relayed"] += expected is not None
    tally["largest"] = max(tally["largest"], len(frame.encode()))


def test_the_gateway_and_handler_stayed_well(gateway: Gateway) -> None:
    """After the fuzzing: no handler failure, no gateway error, no 5xx in the handler's log."""
    log = gateway.log()
    for failure in ("handler raised", "handler timed out", "gateway error", "Traceback"):
        assert failure not in log
    statuses = Counter(record["status"] for record in checks.invocations(gateway))
    assert set(statuses) <= {200, 400}, statuses
    figures = Row(
        test="fuzzed frames through the gateway",
        load="1 sender, 1 bystander, app handler, memory store",
        faults="-",
        inputs=(
            f"{tally['frames']} hypothesis frames: any text, control characters, JSON of any"
            f" shape, escaped lone surrogates, bad action fields, nesting to 6,000, sizes up to"
            f" {tally['largest']:,} bytes ({tally['over the frame limit']} over 32 KB: closed 1009)"
        ),
        lost=(
            f"0; statuses {dict(sorted(statuses.items()))}, no 5xx;"
            f" the bystander saw exactly the {tally['relayed']} documented relays"
        ),
    )
    print(figures)
    assert tally["frames"] >= EXAMPLES // 2  # the fuzzing above ran
    record(figures)
