"""The in-process publisher, the registry of endpoints served in this process, and the
container's choice between them and the configured publisher.

Long: the publisher, the endpoint registry and the container's choice between them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence

import pytest

from adapters.apigateway import local_endpoints
from adapters.apigateway.inprocess_publisher import InProcessPublisher
from domain.limits import MAX_PAYLOAD_BYTES
from domain.model import PostOutcome
from entrypoints.composition.publishers import Publishers
from tests.doubles import FakePublisher

ENDPOINT = "http://127.0.0.1:8080/dev"


class Recorder:
    """A gateway's in-process API that records each call and answers from a table (DELIVERED
    by default), or with `respond` when given."""

    def __init__(
        self,
        answers: Mapping[str, PostOutcome] | None = None,
        respond: Callable[[bytes, Sequence[str]], Mapping[str, PostOutcome]] | None = None,
    ) -> None:
        self.calls: list[tuple[bytes, list[str]]] = []
        self.closed: list[str] = []
        self.answers = dict(answers or {})
        self.respond = respond

    def __call__(self, payload: bytes, connection_ids: Sequence[str]) -> Mapping[str, PostOutcome]:
        self.calls.append((payload, list(connection_ids)))
        if self.respond is not None:
            return self.respond(payload, connection_ids)
        return {cid: self.answers.get(cid, PostOutcome.DELIVERED) for cid in connection_ids}

    def disconnect(self, connection_id: str) -> PostOutcome:
        self.closed.append(connection_id)
        return self.answers.get(connection_id, PostOutcome.DELIVERED)


@pytest.fixture
def gateway() -> Iterator[Recorder]:
    """A fake gateway serving ENDPOINT in this process."""
    fake = Recorder()
    local_endpoints.register(ENDPOINT, fake)
    yield fake
    local_endpoints.unregister(ENDPOINT)


def test_each_distinct_id_is_delivered_once_in_one_call() -> None:
    deliver = Recorder({"gone=": PostOutcome.GONE})
    outcomes = InProcessPublisher(deliver).post(b"hi", ["a=", "gone=", "a=", "b="])
    assert deliver.calls == [(b"hi", ["a=", "gone=", "b="])]
    assert outcomes == {
        "a=": PostOutcome.DELIVERED,
        "gone=": PostOutcome.GONE,
        "b=": PostOutcome.DELIVERED,
    }


def test_a_payload_over_128_kb_is_rejected_without_delivery() -> None:
    deliver = Recorder()
    outcomes = InProcessPublisher(deliver).post(b"x" * (MAX_PAYLOAD_BYTES + 1), ["a=", "b="])
    assert outcomes == {"a=": PostOutcome.REJECTED, "b=": PostOutcome.REJECTED}
    assert deliver.calls == []


def test_exactly_128_kb_is_delivered() -> None:
    outcomes = InProcessPublisher(Recorder()).post(b"x" * MAX_PAYLOAD_BYTES, ["a="])
    assert outcomes == {"a=": PostOutcome.DELIVERED}


def test_no_ids_means_no_delivery() -> None:
    deliver = Recorder()
    assert InProcessPublisher(deliver).post(b"hi", []) == {}
    assert deliver.calls == []


def test_a_failing_gateway_fails_the_batch_for_a_retry_instead_of_raising() -> None:
    def stopped(payload: bytes, ids: Sequence[str]) -> Mapping[str, PostOutcome]:
        raise RuntimeError("Event loop is closed")

    outcomes = InProcessPublisher(Recorder(respond=stopped)).post(b"hi", ["a=", "b="])
    assert outcomes == {"a=": PostOutcome.FAILED, "b=": PostOutcome.FAILED}


def test_an_id_the_gateway_did_not_answer_counts_as_failed() -> None:
    def partial(payload: bytes, ids: Sequence[str]) -> Mapping[str, PostOutcome]:
        return {ids[0]: PostOutcome.DELIVERED}

    outcomes = InProcessPublisher(Recorder(respond=partial)).post(b"hi", ["a=", "b="])
    assert outcomes == {"a=": PostOutcome.DELIVERED, "b=": PostOutcome.FAILED}


def test_a_close_goes_to_the_gateway_and_its_answer_comes_back() -> None:
    gateway = Recorder({"gone=": PostOutcome.GONE})
    publisher = InProcessPublisher(gateway)
    assert publisher.disconnect("a=") is PostOutcome.DELIVERED
    assert publisher.disconnect("gone=") is PostOutcome.GONE
    assert gateway.closed == ["a=", "gone="]


def test_the_registry_finds_an_endpoint_with_or_without_its_trailing_slash(
    gateway: Recorder,
) -> None:
    assert local_endpoints.lookup(ENDPOINT) is gateway
    assert local_endpoints.lookup(ENDPOINT + "/") is gateway
    assert local_endpoints.lookup("http://127.0.0.1:8081/dev") is None


def test_an_endpoint_is_served_by_one_gateway_at_a_time(gateway: Recorder) -> None:
    local_endpoints.register(ENDPOINT, gateway)  # the same one again: no harm
    with pytest.raises(ValueError, match="already served in this process"):
        local_endpoints.register(ENDPOINT, Recorder())


def test_an_unregistered_endpoint_is_not_found() -> None:
    local_endpoints.register(ENDPOINT, Recorder())
    local_endpoints.unregister(ENDPOINT)
    local_endpoints.unregister(ENDPOINT)  # twice: no error
    assert local_endpoints.lookup(ENDPOINT) is None


def test_the_registry_takes_registrations_from_many_threads() -> None:
    endpoints = [f"http://127.0.0.1:{9000 + n}/dev" for n in range(16)]
    delivers = {endpoint: Recorder() for endpoint in endpoints}
    threads = [
        threading.Thread(target=local_endpoints.register, args=(e, delivers[e])) for e in endpoints
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert {e: local_endpoints.lookup(e) for e in endpoints} == delivers
    finally:
        for endpoint in endpoints:
            local_endpoints.unregister(endpoint)


def test_the_container_delivers_in_process_to_a_gateway_in_this_process(
    gateway: Recorder,
) -> None:
    built: list[str] = []

    def factory(endpoint: str) -> FakePublisher:
        built.append(endpoint)
        return FakePublisher()

    publishers = Publishers(factory=factory)
    gateway.answers["gone="] = PostOutcome.GONE
    publisher = publishers.for_endpoint(ENDPOINT)
    outcomes = publisher.post(b"hi", ["a=", "gone="])
    assert isinstance(publisher, InProcessPublisher)
    assert outcomes == {"a=": PostOutcome.DELIVERED, "gone=": PostOutcome.GONE}
    assert gateway.calls == [(b"hi", ["a=", "gone="])]
    assert built == []  # no HTTP publisher was built


def test_the_container_builds_the_configured_publisher_for_any_other_endpoint() -> None:
    configured = FakePublisher()
    built: list[str] = []

    def factory(endpoint: str) -> FakePublisher:
        built.append(endpoint)
        return configured

    publishers = Publishers(factory=factory)
    assert publishers.for_endpoint(ENDPOINT) is configured
    assert publishers.for_endpoint(ENDPOINT) is configured
    assert built == [ENDPOINT]  # built once, kept for the process
    local_endpoints.register(ENDPOINT, Recorder())
    try:  # a gateway that starts later is honoured, and one that stops is no longer used
        assert isinstance(publishers.for_endpoint(ENDPOINT), InProcessPublisher)
    finally:
        local_endpoints.unregister(ENDPOINT)
    assert publishers.for_endpoint(ENDPOINT) is configured
