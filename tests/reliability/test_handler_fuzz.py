"""Fuzzed events into the Lambda handler alone: any body on any route is a 200 or a 400.

Bodies are the gateway fuzz's frames plus what only a direct invocation can carry (lone
surrogates, base64 flags, no body at all); routes, connection ids and a few requestContext
fields vary too. The handler runs over the memory store and a fake publisher, with connections
that exist, so broadcasts, joins and replies really happen.
"""

from __future__ import annotations

import base64
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from dependency_injector import providers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from entrypoints import aws_lambda
from entrypoints.composition.container import build
from entrypoints.composition.publishers import Publishers
from tests.doubles import FakePublisher
from tests.reliability.frames import ROUTES, frames, json_values
from tests.reliability.report import Row, record
from tests.support import LambdaContext, load_event

EXAMPLES = 600
KNOWN = ("AAAAAAAAAAAAAAA=", "BBBBBBBBBBBBBBB=", "CCCCCCCCCCCCCCC=")
AUTHORIZER_KEYS = ("sub", "rooms", "principalId")
statuses: Counter[int] = Counter()


@pytest.fixture(scope="module")
def app() -> Iterator[FakePublisher]:
    container = build({"STORE": "memory", "AWS_REGION": "us-east-1", "DISPATCH": "off"})
    fake = FakePublisher()
    container.publishers.override(providers.Singleton(Publishers, factory=lambda **_: fake))
    aws_lambda.reset_container(container)
    now_ms = int(time.time() * 1000)
    for connection_id in KNOWN:
        event = load_event("connect", connectionId=connection_id, connectedAt=now_ms)
        assert aws_lambda.handler(event, LambdaContext())["statusCode"] == 200
    yield fake
    aws_lambda.reset_container(None)


surrogate_text = st.text(st.characters(codec=None), max_size=60)  # lone surrogates included
# Weighted towards what reaches the use cases: text bodies, real routes, known connections.
bodies = st.one_of(frames, frames, frames, surrogate_text, st.none(), json_values, st.binary())
real_routes = st.sampled_from(["$connect", "$disconnect", "$default", *ROUTES])
routes = st.one_of(real_routes, real_routes, real_routes, st.text(max_size=12))
connection_ids = st.one_of(st.sampled_from(KNOWN), st.sampled_from(KNOWN), st.text(max_size=20))
context_changes = st.fixed_dictionaries(
    {},
    optional={
        "connectedAt": st.integers() | st.text(max_size=5) | st.none() | st.booleans(),
        "eventType": st.sampled_from(["CONNECT", "MESSAGE", "DISCONNECT", "", "OTHER"]),
        "apiId": st.text(max_size=10),
        "identity": json_values,
        "authorizer": st.dictionaries(
            st.sampled_from(["sub", "rooms", "principalId"]), json_values
        ),
    },
)


def event_for(
    route: str, connection_id: str, body: Any, encoded: bool, changes: dict[str, Any]
) -> dict[str, Any]:
    event = load_event("message", routeKey=route, connectionId=connection_id)
    event["requestContext"]["connectedAt"] = int(time.time() * 1000)
    event["requestContext"].update(changes)
    if body is None:
        event.pop("body")
    elif isinstance(body, bytes) or encoded:
        raw = body if isinstance(body, bytes) else str(body).encode("utf-8", "surrogatepass")
        event["body"], event["isBase64Encoded"] = base64.b64encode(raw).decode(), True
    else:
        event["body"] = body  # not always a string: a malformed event must be a 400 too
    return event


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    route=routes,
    connection_id=connection_ids,
    body=bodies,
    encoded=st.booleans(),
    changes=st.one_of(st.just({}), st.just({}), st.just({}), context_changes),
)
def test_any_event_is_answered_200_or_400(
    app: FakePublisher,
    route: str,
    connection_id: str,
    body: Any,
    encoded: bool,
    changes: dict[str, Any],
) -> None:
    event = event_for(route, connection_id, body, encoded, changes)
    response = aws_lambda.handler(event, LambdaContext())
    assert response["statusCode"] in (200, 400), response
    assert isinstance(response.get("body"), str)
    statuses[response["statusCode"]] += 1


def test_the_fuzzing_ran(app: FakePublisher) -> None:
    assert sum(statuses.values()) >= EXAMPLES // 2
    posts = sum(len(payloads) for payloads in app.sent.values())
    figures = Row(
        test="fuzzed events into the handler",
        load=f"3 connections, memory store, fake publisher ({posts} posts made)",
        faults="-",
        inputs=(
            f"{sum(statuses.values())} hypothesis events: every route and unknown ones, any body"
            " (frames as above, lone surrogates, base64 or not, none, not a string),"
            " odd requestContext fields"
        ),
        lost=f"0; statuses {dict(sorted(statuses.items()))}, no exception",
    )
    print(figures)
    record(figures)
