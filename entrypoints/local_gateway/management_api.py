"""The @connections API: POST to send, GET to describe, DELETE to close; AWS's errors."""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote

from entrypoints.local_gateway.http_router import HttpRequest, HttpResponse, Router
from entrypoints.local_gateway.ids import lambda_request_id
from entrypoints.local_gateway.runtime import Runtime
from entrypoints.local_gateway.wire import MAX_MESSAGE_BYTES

log = logging.getLogger("local_gateway")
# Past this many bytes waiting in a client's socket buffer, posts get 429 as on AWS
# ("the client's buffer is full") instead of growing the buffer without bound.
MAX_BUFFERED_BYTES = 4 * 1024 * 1024


def register(router: Router, runtime: Runtime) -> None:
    """Serve /STAGE/@connections/{connectionId} on the gateway's own port."""
    api = ManagementApi(runtime)
    pattern = rf"/{re.escape(runtime.stage.name)}/@connections/(?P<connection_id>[^/]+)"
    router.add(("GET", "POST", "DELETE"), pattern, api.handle)


class ManagementApi:
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    async def handle(self, request: HttpRequest) -> HttpResponse:
        if self._runtime.require_signature and not _signed(request):
            # What API Gateway answers a request without SigV4 (boto3 always signs).
            return _error(403, "ForbiddenException", "Missing Authentication Token")
        connection_id = unquote(request.params["connection_id"])  # `=` arrives as %3D
        if request.method == "POST" and len(request.body) > MAX_MESSAGE_BYTES:
            limit = MAX_MESSAGE_BYTES
            message = f"The payload is {len(request.body)} bytes; the limit is {limit}"
            return _error(413, "PayloadTooLargeException", message)
        connection = self._runtime.registry.get(connection_id)
        if connection is None:
            # Closed, never existed, or not established yet (a post from its own $connect).
            return _error(410, "GoneException", f"Connection {connection_id} is gone")
        if request.method == "GET":
            return HttpResponse.json(200, connection.describe(), _request_id())
        if request.method == "DELETE":
            # AWS reports 1000 "Connection Closed Normally" to $disconnect after a DELETE.
            connection.wire.close(1000, "", disconnect_reason="Connection Closed Normally")
            log.info("@connections DELETE connection=%s", connection_id)
            return HttpResponse(204, b"", _request_id())
        if connection.wire.buffered_bytes() > MAX_BUFFERED_BYTES:
            return _error(429, "LimitExceededException", "The client's buffer is full")
        connection.send(request.body)
        return HttpResponse(200, b"", _request_id())


def _signed(request: HttpRequest) -> bool:
    authorization = request.header("authorization") or ""
    return authorization.startswith("AWS4-HMAC-SHA256 ") or "X-Amz-Signature=" in request.query


def _error(status: int, error_type: str, message: str) -> HttpResponse:
    # botocore maps x-amzn-ErrorType to client.exceptions.GoneException and friends.
    headers = [("x-amzn-ErrorType", error_type), *_request_id()]
    return HttpResponse.json(status, {"message": message}, headers)


def _request_id() -> list[tuple[str, str]]:
    return [("x-amzn-RequestId", lambda_request_id())]
