"""POST /publish: a backend's message to a room's members or to everyone (issue 15).

An HTTP API route (payload format 2.0) with AWS_IAM authorization: API Gateway checks the SigV4
signature before this function runs, so an unsigned or badly signed call gets 403 and never
arrives here. The caller's IAM identity (requestContext.authorizer.iam: its userArn, else its
access key) names the publisher, whose ids are deduplicated like a connection's.

Body: {"room": "r", "data": X, "id": "optional"} (no room: everyone). Answers:
  200 {"room", "seq", "id", "recipients", "duplicate"}: posted (recipients: connections posted to)
  202 the same: a sharded broadcast, handed to fan-out workers (recipients: what planning saw)
  400 {"error", "message"}: invalid_body (not JSON, not an object, NaN or Infinity),
      missing_data, invalid_room, invalid_id, payload_too_large, invalid_text
  503 not_stored (nothing was sent: send it again), 500 broadcast_incomplete or misconfigured
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger

from domain import protocol
from domain.limits import MAX_PAYLOAD_BYTES
from domain.outcomes import Published
from entrypoints.composition import container as composition
from entrypoints.composition import services
from entrypoints.observability import NAMESPACE, add_metric, invocation

logger = Logger(service="switchboard-publish")
# Without an IAM identity (only `serve --allow-unsigned` calls so): one publisher for all.
ANONYMOUS = "anonymous"
_STATUS = {"not_stored": 503, "broadcast_incomplete": 500}  # any other refusal: 400


@invocation(logger, NAMESPACE)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    started = time.perf_counter()
    if not isinstance(event, Mapping):
        return _answer(400, _error("invalid_event", "The event must be a JSON object."))
    publisher = caller(event)
    command = parse_body(event)
    if isinstance(command, protocol.Invalid):
        add_metric("PublishesRefused", 1)
        logger.info("publish refused", extra={"error": command.code, "publisher": publisher})
        return _answer(400, _error(command.code, command.message))
    c = composition.shared()
    endpoint = c.config.apigw_endpoint()
    if endpoint is None:  # the template sets it: the WebSocket API's @connections endpoint
        logger.error("APIGW_ENDPOINT is not set: no @connections endpoint to post to")
        message = "The function has no APIGW_ENDPOINT to post to."
        return _answer(500, _error("misconfigured", message))
    service = services.for_endpoint(c, endpoint)
    published = service.publish(command.room, command.data, command.message_id, publisher)
    status = _status(published)
    add_metric("Publishes", 1)
    logger.info(
        "publish",
        extra={
            "status": status,
            "publisher": publisher,
            "room": published.room,
            "seq": published.seq,
            "message_id": published.message_id,
            "recipients": published.recipients,
            "duplicate": published.duplicate,
            "sharded": published.sharded,
            "error": published.error,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        },
    )
    if published.error:
        return _answer(status, _error(published.error, published.message))
    return _answer(status, answer(published))


def answer(published: Published) -> dict[str, Any]:
    """The body of a 200 or 202."""
    return {
        "room": published.room,
        "seq": published.seq,
        "id": published.message_id,
        "recipients": published.recipients,
        "duplicate": published.duplicate,
    }


def caller(event: Mapping[str, Any]) -> str:
    """The IAM identity API Gateway verified: its ARN, else its access key."""
    context = event.get("requestContext")
    authorizer = context.get("authorizer") if isinstance(context, Mapping) else None
    iam = authorizer.get("iam") if isinstance(authorizer, Mapping) else None
    if isinstance(iam, Mapping):
        for key in ("userArn", "accessKey"):
            value = iam.get(key)
            if isinstance(value, str) and value:
                return value
    return ANONYMOUS


def parse_body(event: Mapping[str, Any]) -> protocol.SendMessage | protocol.Invalid:
    """The body as a message, by the rules of a sendmessage frame (domain/protocol.py)."""
    raw = event.get("body")
    if raw is None:
        return protocol.Invalid("invalid_body", 'The body must be a JSON object with "data".')
    if not isinstance(raw, str):
        return protocol.Invalid("invalid_body", "The body must be text.")
    try:
        data = base64.b64decode(raw, validate=True) if event.get("isBase64Encoded") else None
    except binascii.Error:
        return protocol.Invalid("invalid_body", "The body is not valid base64.")
    size = len(data) if data is not None else len(raw.encode("utf-8", "surrogatepass"))
    if size > MAX_PAYLOAD_BYTES:
        message = f"The body is {size} bytes; a message's limit is {MAX_PAYLOAD_BYTES}."
        return protocol.Invalid("payload_too_large", message)
    if data is not None:
        try:
            raw = data.decode("utf-8")
        except UnicodeDecodeError:
            return protocol.Invalid("invalid_body", "The body is not UTF-8 text.")
    frame = protocol.json_object(raw, "The body", "invalid_body")
    if isinstance(frame, protocol.Invalid):
        return frame
    return protocol.message_fields(frame, "The body")


def _status(published: Published) -> int:
    if published.error:
        return _STATUS.get(published.error, 400)
    return 202 if published.sharded else 200


def _error(code: str, message: str) -> dict[str, str]:
    return {"error": code, "message": message}


def _answer(status: int, body: Mapping[str, Any]) -> dict[str, Any]:
    """A payload format 2.0 response: API Gateway answers with exactly this."""
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }
