"""serve's POST /publish: the payload format 2.0 event it builds, and how it answers with the
function's result (as API Gateway passes a format 2.0 response on)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from entrypoints.local_gateway.http_api.publish import response
from entrypoints.local_gateway.lambda_runtime.http_events import http_api_event, iam_identity
from entrypoints.local_gateway.lambda_runtime.invoker import Invocation
from entrypoints.publish_api import caller, parse_body


def test_the_event_is_format_2_0_with_the_signer_as_the_iam_identity() -> None:
    headers = [("Host", "127.0.0.1:8080"), ("X-Thing", "a"), ("x-thing", "b")]
    event = http_api_event(
        "POST", "/publish", "", headers, b'{"data": 1}',
        api_id="abcdefghij", host="127.0.0.1:8080", iam=iam_identity("serve-key"),
    )  # fmt: skip
    assert (event["version"], event["routeKey"], event["rawPath"]) == (
        "2.0", "POST /publish", "/publish"
    )  # fmt: skip
    assert event["headers"] == {"host": "127.0.0.1:8080", "x-thing": "a,b"}
    assert (event["body"], event["isBase64Encoded"]) == ('{"data": 1}', False)
    context = event["requestContext"]
    assert (context["stage"], context["http"]["method"]) == ("$default", "POST")
    assert "connectionId" not in context
    # What the publish handler reads of it: the same as of an event from AWS.
    assert caller(event) == "serve-key"
    assert parse_body(event).data == 1  # type: ignore[union-attr]


def test_a_body_that_is_not_utf8_arrives_base64_encoded_and_unsigned_has_no_authorizer() -> None:
    event = http_api_event(
        "POST", "/publish", "", [], b"\xff", api_id="a", host="h", iam=None
    )  # fmt: skip
    assert (event["body"], event["isBase64Encoded"]) == (base64.b64encode(b"\xff").decode(), True)
    assert "authorizer" not in event["requestContext"]


B64 = base64.b64encode(b"{}").decode()


@pytest.mark.parametrize(
    ("outcome", "status", "body"),
    [
        (Invocation(timed_out=True), 503, {"message": "Service Unavailable"}),
        (Invocation(failed=True), 500, {"message": "Internal Server Error"}),
        (Invocation({"statusCode": "soon"}), 500, {"message": "Internal Server Error"}),
        (Invocation({"ok": True}), 200, {"ok": True}),  # no statusCode: the body of a 200
        (Invocation({"statusCode": 400, "body": '{"error": "x"}'}), 400, {"error": "x"}),
        (Invocation({"statusCode": 202, "body": B64, "isBase64Encoded": True}), 202, {}),
    ],
)
def test_the_function_s_result_becomes_the_answer(
    outcome: Invocation, status: int, body: Any
) -> None:
    answer = response(outcome)
    assert answer.status == status
    assert json.loads(answer.body) == body
