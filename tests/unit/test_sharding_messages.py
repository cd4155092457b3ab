"""Shard tasks as queue message bodies: any payload survives; anything else is refused."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.sqs.messages import MAX_BODY_BYTES, ShardMessageError, decode, encode
from domain.limits import MAX_PAYLOAD_BYTES
from domain.shards import EveryonePart, RoomPart, ShardTask

ENDPOINT = "https://abc.execute-api.eu-west-1.amazonaws.com/prod"
shards = st.one_of(
    st.integers(1, 10_000).flatmap(
        lambda total: st.builds(EveryonePart, st.integers(0, total - 1), st.just(total))
    ),
    st.builds(RoomPart, st.text(min_size=1), st.none(), st.none() | st.text()),
)


@given(st.text(min_size=1), st.integers(0, 10**6), shards, st.binary(max_size=2048))
def test_a_task_reads_back_as_it_was_sent(
    broadcast: str, index: int, part: EveryonePart | RoomPart, payload: bytes
) -> None:
    task = ShardTask(broadcast, index, part, payload)
    assert decode(encode(task, ENDPOINT)) == (task, ENDPOINT)


def test_the_largest_payload_api_gateway_takes_fits_in_an_sqs_message() -> None:
    task = ShardTask(
        "b" * 32, 999_999, RoomPart("r" * 128, "a" * 16, "z" * 16), b"\xff" * MAX_PAYLOAD_BYTES
    )
    body = encode(task, ENDPOINT)
    assert len(body.encode()) <= MAX_BODY_BYTES
    assert decode(body)[0].payload == task.payload


def body(**fields: object) -> str:
    base: dict[str, object] = {
        "v": 2, "broadcast": "b", "index": 0, "endpoint": ENDPOINT,
        "payload": base64.b64encode(b"x").decode(), "part": 0, "parts": 1,
    }  # fmt: skip
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not ...})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        (body(v=1), "version 1 is not 2"),
        (body(payload="%%%"), "payload is not base64"),
        (body(index=True), "'index' must be a int, not True"),
        (body(endpoint=...), "'endpoint' must be a str, not None"),
        (body(part=3, parts=3), r"index must be in \[0, 3\)"),
        (body(part=..., parts=...), "neither a part of everyone nor a room"),
        (body(part=..., room="r", after=5), "'after' must be a string or null"),
        (body(part=..., room="r", after="b", upto="a"), "an empty range"),
    ],
)
def test_a_body_that_is_not_a_task_is_refused_saying_why(text: str, message: str) -> None:
    with pytest.raises(ShardMessageError, match=message):
        decode(text)
