"""The Publisher contract, run against the fake, boto3 and lean publishers (a local sink).

Long: one contract suite runs against three publishers, and they share the sink's cues.
"""

from __future__ import annotations

import logging
import random
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import boto3
import botocore.session
import pytest
from botocore.credentials import RefreshableCredentials

from adapters.apigateway.boto3_publisher import Boto3Publisher, management_client
from adapters.apigateway.lean_publisher import LeanPublisher
from adapters.apigateway.sigv4 import BatchSigner
from adapters.clock import SystemClock
from adapters.memory.store import MemoryStore
from domain.fanout import Fanout, RetryPolicy
from domain.limits import MAX_PAYLOAD_BYTES
from domain.model import Connection, PostOutcome
from domain.ports import Publisher
from tests.doubles import FakeClock, FakePublisher
from tests.integration.http_sink import HttpSink

KEY, SECRET, REGION = "AKIDTESTING", "testing-secret", "us-east-1"

STATUS = {
    PostOutcome.GONE: 410,
    PostOutcome.THROTTLED: 429,
    PostOutcome.FAILED: 500,
    PostOutcome.REJECTED: 403,
}


@dataclass
class Rig:
    """A publisher, and how to cue answers and read what arrived, whatever is behind it."""

    publisher: Publisher
    cue: Callable[..., None]  # (connection_id, *PostOutcome)
    received: Callable[[str], list[bytes]]
    sink: HttpSink | None = None


def credentials() -> botocore.session.Session:
    session = botocore.session.Session()
    session.set_credentials(KEY, SECRET)
    return session


def http_publisher(kind: str, endpoint: str, read_timeout: float = 5.0) -> Publisher:
    if kind == "boto3":
        session = boto3.session.Session(aws_access_key_id=KEY, aws_secret_access_key=SECRET)
        client = management_client(endpoint, REGION, 8, session, read_timeout=read_timeout)
        return Boto3Publisher(client, concurrency=8)
    return LeanPublisher(endpoint, REGION, 8, credentials(), read_timeout=read_timeout)


def close(publisher: Publisher) -> None:
    if isinstance(publisher, Boto3Publisher | LeanPublisher):
        publisher.close()


@pytest.fixture(params=["fake", "boto3", "lean"])
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    if request.param == "fake":
        fake = FakePublisher()
        yield Rig(fake, lambda cid, *outcomes: fake.script(cid, outcomes), lambda c: fake.sent[c])
        return
    with HttpSink(secrets={KEY: SECRET}) as sink:
        publisher = http_publisher(request.param, sink.endpoint)

        def cue(connection_id: str, *outcomes: PostOutcome) -> None:
            sink.cue(connection_id, *(STATUS.get(o, 200) for o in outcomes))

        yield Rig(publisher, cue, sink.bodies, sink)
        close(publisher)


@pytest.fixture(params=["boto3", "lean"])
def http_rig(
    request: pytest.FixtureRequest, sink: HttpSink
) -> Iterator[tuple[Publisher, HttpSink]]:
    publisher = http_publisher(request.param, sink.endpoint)
    yield publisher, sink
    close(publisher)


@pytest.fixture
def sink() -> Iterator[HttpSink]:
    with HttpSink(secrets={KEY: SECRET, "AKIDNEW": SECRET}) as running:
        yield running


def test_each_id_gets_its_own_outcome(rig: Rig) -> None:
    expected = {"ok1=": PostOutcome.DELIVERED} | {f"{o.value}=": o for o in STATUS}
    for connection_id, outcome in expected.items():
        rig.cue(connection_id, outcome)

    outcomes = rig.publisher.post(b"hello", list(expected))

    assert outcomes == expected
    assert {cid: rig.received(cid) for cid in expected} == {
        cid: [b"hello"] if o is PostOutcome.DELIVERED else [] for cid, o in expected.items()
    }


def test_a_throttled_id_is_delivered_when_posted_again(rig: Rig) -> None:
    rig.cue("t=", PostOutcome.THROTTLED, PostOutcome.FAILED)

    attempts = [rig.publisher.post(b"x", ["t="])["t="] for _ in range(3)]

    assert attempts == [PostOutcome.THROTTLED, PostOutcome.FAILED, PostOutcome.DELIVERED]
    assert rig.received("t=") == [b"x"]


def test_many_ids_at_once_each_get_the_payload_once(rig: Rig) -> None:
    ids = [f"conn{i:04d}AAAAAAAA=" for i in range(300)]  # many more than 8 in flight

    outcomes = rig.publisher.post(b"broadcast", ids)

    assert outcomes == dict.fromkeys(ids, PostOutcome.DELIVERED)
    assert all(rig.received(cid) == [b"broadcast"] for cid in ids)


def test_payload_bytes_arrive_exactly(rig: Rig) -> None:
    payload = bytes(range(256)) * 4 + "é ✓ \u2028".encode()

    assert rig.publisher.post(payload, ["L0SM9cOFvHcCIhw="]) == {
        "L0SM9cOFvHcCIhw=": PostOutcome.DELIVERED
    }
    assert rig.received("L0SM9cOFvHcCIhw=") == [payload]


def test_no_ids_posts_nothing(rig: Rig) -> None:
    assert rig.publisher.post(b"x", []) == {}
    if rig.sink is not None:
        assert rig.sink.received == []


@pytest.mark.parametrize("connection_id", ["L0SM9cOFvHcCIhw=", "a+b/c=="])
def test_ids_are_url_encoded_in_the_path(
    http_rig: tuple[Publisher, HttpSink], connection_id: str
) -> None:
    publisher, sink = http_rig

    assert publisher.post(b"x", [connection_id]) == {connection_id: PostOutcome.DELIVERED}
    (request,) = sink.received
    assert request.connection_id == connection_id
    encoded = connection_id.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
    assert request.raw_path == f"/test/@connections/{encoded}"
    assert request.signature_valid  # signed for the encoded path it was sent to


def test_posts_are_sigv4_signed_for_execute_api(http_rig: tuple[Publisher, HttpSink]) -> None:
    publisher, sink = http_rig

    publisher.post(b"x", ["a=", "b="])

    for request in sink.received:
        assert request.authorization is not None
        assert request.authorization.startswith(f"AWS4-HMAC-SHA256 Credential={KEY}/")
        assert f"/{REGION}/execute-api/aws4_request" in request.authorization
        assert request.signature_valid is True


def test_an_answer_api_gateway_calls_bad_request_is_rejected(
    http_rig: tuple[Publisher, HttpSink],
) -> None:
    publisher, sink = http_rig
    sink.cue("bad=", 400)
    sink.cue("big=", 413)

    assert publisher.post(b"x", ["bad=", "big="]) == {
        "bad=": PostOutcome.REJECTED,
        "big=": PostOutcome.REJECTED,
    }


def test_an_oversized_payload_is_rejected_without_posting(
    http_rig: tuple[Publisher, HttpSink],
) -> None:
    publisher, sink = http_rig

    outcomes = publisher.post(b"x" * (MAX_PAYLOAD_BYTES + 1), ["a=", "b="])

    assert outcomes == {"a=": PostOutcome.REJECTED, "b=": PostOutcome.REJECTED}
    assert sink.received == []


@pytest.mark.parametrize("kind", ["boto3", "lean"])
def test_connection_refused_is_a_failure_not_an_exception(kind: str) -> None:
    with socket.socket() as probe:  # a port nothing listens on once the probe closes
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    publisher = http_publisher(kind, f"http://127.0.0.1:{port}/test")
    try:
        assert publisher.post(b"x", ["a=", "b="]) == dict.fromkeys(["a=", "b="], PostOutcome.FAILED)
    finally:
        close(publisher)


@pytest.mark.parametrize("kind", ["boto3", "lean"])
def test_a_timeout_fails_only_the_slow_id(kind: str) -> None:
    with HttpSink(secrets={KEY: SECRET}) as sink:
        sink.stall("slow=", 4.0)
        publisher = http_publisher(kind, sink.endpoint, read_timeout=1.0)
        try:
            outcomes = publisher.post(b"x", ["slow=", "fast="])
        finally:
            close(publisher)

    assert outcomes == {"slow=": PostOutcome.FAILED, "fast=": PostOutcome.DELIVERED}


@pytest.mark.parametrize("kind", ["boto3", "lean"])
def test_a_post_whose_outcome_is_unknown_is_posted_again_so_delivery_is_at_least_once(
    kind: str,
) -> None:
    """A timeout after the request went out: the frame may have reached the client, and the
    fan-out cannot know, so it posts again. Clients dedupe by the message id (README)."""
    with HttpSink(secrets={KEY: SECRET}) as sink:
        sink.stall_first("late=", 3.0)
        publisher = http_publisher(kind, sink.endpoint, read_timeout=1.0)
        policy = RetryPolicy(max_attempts=3, base_delay=0.01, deadline=10.0)
        fanout = Fanout(MemoryStore(), publisher, SystemClock(), policy, batch_size=10)
        try:
            result = fanout.send(b"once?", ["late=", "on-time="])
        finally:
            close(publisher)
        late, on_time = sink.bodies("late="), sink.bodies("on-time=")
    assert (result.delivered, result.failed, result.retries) == (2, 0, 1)
    assert late == [b"once?", b"once?"] and on_time == [b"once?"]


def test_boto3_publisher_logs_an_unexpected_error_with_the_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class BrokenClient:
        def post_to_connection(self, ConnectionId: str, Data: bytes) -> None:
            if ConnectionId == "boom=":
                raise ValueError("something no one expected")

    publisher = Boto3Publisher(BrokenClient(), concurrency=2)
    with caplog.at_level(logging.ERROR):
        outcomes = publisher.post(b"x", ["boom=", "fine="])
    publisher.close()

    assert outcomes == {"boom=": PostOutcome.FAILED, "fine=": PostOutcome.DELIVERED}
    assert "boom=" in caplog.text and "something no one expected" in caplog.text


def test_lean_publisher_logs_an_unexpected_error_with_the_id(
    sink: HttpSink, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_headers = BatchSigner.headers

    def headers(self: BatchSigner, url: str) -> dict[str, str]:
        if url.endswith("boom%3D"):
            raise ValueError("something no one expected")
        return real_headers(self, url)

    monkeypatch.setattr(BatchSigner, "headers", headers)
    publisher = LeanPublisher(sink.endpoint, REGION, 4, credentials())
    with caplog.at_level(logging.ERROR):
        outcomes = publisher.post(b"x", ["boom=", "fine="])
    publisher.close()

    assert outcomes == {"boom=": PostOutcome.FAILED, "fine=": PostOutcome.DELIVERED}
    assert "boom=" in caplog.text and "something no one expected" in caplog.text


def test_lean_publisher_without_credentials_fails_every_post_and_says_why(
    sink: HttpSink, caplog: pytest.LogCaptureFixture
) -> None:
    class NoCredentials:
        def get_credentials(self) -> None:
            return None

    publisher = LeanPublisher(sink.endpoint, REGION, 4, NoCredentials())
    with caplog.at_level(logging.ERROR):
        outcomes = publisher.post(b"x", ["a="])
    publisher.close()

    assert outcomes == {"a=": PostOutcome.FAILED}
    assert "no AWS credentials found" in caplog.text
    assert sink.received == []


def test_lean_publisher_signs_with_the_session_credentials_of_the_moment(sink: HttpSink) -> None:
    session = credentials()
    publisher = LeanPublisher(sink.endpoint, REGION, 4, session)

    publisher.post(b"x", ["a="])
    session.set_credentials("AKIDNEW", SECRET)  # e.g. a rotated key
    publisher.post(b"x", ["a="])
    publisher.close()

    assert [r.access_key for r in sink.received] == [KEY, "AKIDNEW"]
    assert all(r.signature_valid for r in sink.received)


def test_lean_publisher_refreshes_credentials_about_to_expire(sink: HttpSink) -> None:
    """Lambda's role credentials are refreshable: each batch must use fresh ones."""
    issued = iter([KEY, "AKIDNEW"])

    def refresh() -> dict[str, str]:
        # Expiring within botocore's mandatory refresh window: every use refreshes again.
        expiry = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
        return {
            "access_key": next(issued),
            "secret_key": SECRET,
            "token": "session-token",
            "expiry_time": expiry,
        }

    refreshable = RefreshableCredentials.create_from_metadata(
        {
            "access_key": "AKIDSTALE",
            "secret_key": SECRET,
            "token": "stale",
            "expiry_time": datetime.now(UTC).isoformat(),
        },
        refresh_using=refresh,
        method="test",
    )

    class Source:
        def get_credentials(self) -> RefreshableCredentials:
            return refreshable

    publisher = LeanPublisher(sink.endpoint, REGION, 4, Source())
    publisher.post(b"x", ["a="])
    publisher.post(b"x", ["a="])
    publisher.close()

    assert [r.access_key for r in sink.received] == [KEY, "AKIDNEW"]
    assert all(r.signature_valid for r in sink.received)


def fanout_over_lean(sink: HttpSink, store: MemoryStore) -> tuple[Fanout, LeanPublisher]:
    publisher = LeanPublisher(sink.endpoint, REGION, 4, credentials())
    policy = RetryPolicy(max_attempts=5, base_delay=0.01, max_delay=0.05, deadline=5.0)
    return Fanout(store, publisher, FakeClock(), policy, random.Random(7)), publisher


def test_fanout_retries_throttled_posts_until_delivered(sink: HttpSink) -> None:
    store = MemoryStore()
    fanout, publisher = fanout_over_lean(sink, store)
    sink.cue("busy=", 429, 429)

    result = fanout.send(b"hi", ["busy=", "calm="])
    publisher.close()

    assert (result.delivered, result.retries, result.failed, result.pruned) == (2, 2, 0, 0)
    assert sink.bodies("busy=") == [b"hi"] and sink.bodies("calm=") == [b"hi"]


def test_fanout_prunes_gone_connections_from_the_store(sink: HttpSink) -> None:
    store = MemoryStore()
    for connection_id in ("gone=", "here="):
        store.add(Connection.open(connection_id, 1_700_000_000_000))
    fanout, publisher = fanout_over_lean(sink, store)
    sink.gone("gone=")

    result = fanout.send(b"hi", store.connection_ids(1_700_000_001))
    publisher.close()

    assert (result.delivered, result.pruned, result.failed) == (1, 1, 0)
    assert store.get("gone=") is None and store.get("here=") is not None


def test_lean_publisher_close_is_idempotent(sink: HttpSink) -> None:
    publisher = LeanPublisher(sink.endpoint, REGION, 4, credentials())
    publisher.post(b"x", ["a="])

    publisher.close()
    publisher.close()
