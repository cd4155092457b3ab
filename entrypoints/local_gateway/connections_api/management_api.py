"""The @connections API: POST to send, GET to describe, DELETE to close; AWS's errors."""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote

from domain.limits import MAX_PAYLOAD_BYTES
from entrypoints.local_gateway.connections_api.posting import (
    Refusal,
    delete_connection,
    gone,
    post_to_connection,
)
from entrypoints.local_gateway.connections_api.signature import SignatureCheck
from entrypoints.local_gateway.lambda_runtime.ids import lambda_request_id
from entrypoints.local_gateway.web.http_router import HttpRequest, HttpResponse, Router
from entrypoints.local_gateway.websocket.runtime import Runtime

log = logging.getLogger("local_gateway")


def register(router: Router, runtime: Runtime, signatures: SignatureCheck | None) -> None:
    """Serve /STAGE/@connections/{connectionId} on the gateway's own port; `signatures` checks
    each call's SigV4 signature (None: --allow-unsigned, no check at all)."""
    api = ManagementApi(runtime, signatures)
    pattern = rf"/{re.escape(runtime.stage.name)}/@connections/(?P<connection_id>[^/]+)"
    # AWS's payload limit caps every @connections body (a POST's data; GET and DELETE send none).
    router.add(("GET", "POST", "DELETE"), pattern, api.handle, max_body_bytes=MAX_PAYLOAD_BYTES)


class ManagementApi:
    def __init__(self, runtime: Runtime, signatures: SignatureCheck | None) -> None:
        self._runtime = runtime
        self._signatures = signatures

    async def handle(self, request: HttpRequest) -> HttpResponse:
        refusal = self._signatures.refusal(request) if self._signatures else None
        if refusal is not None:
            log.info("@connections %s refused: %s", request.method, refusal.message)
            return _error(refusal)
        connection_id = unquote(request.params["connection_id"])  # `=` arrives as %3D
        if request.method == "POST":
            refusal = post_to_connection(self._runtime, connection_id, request.body)
            return _error(refusal) if refusal else HttpResponse(200, b"", _request_id())
        if request.method == "DELETE":
            refusal = delete_connection(self._runtime, connection_id)
            if refusal:
                return _error(refusal)
            log.info("@connections DELETE connection=%s", connection_id)
            return HttpResponse(204, b"", _request_id())
        connection = self._runtime.registry.get(connection_id)
        if connection is None:
            return _error(gone(connection_id))
        return HttpResponse.json(200, connection.describe(), _request_id())


def _error(refusal: Refusal) -> HttpResponse:
    # botocore maps x-amzn-ErrorType to client.exceptions.GoneException and friends.
    headers = [("x-amzn-ErrorType", refusal.error_type), *_request_id()]
    return HttpResponse.json(refusal.status, {"message": refusal.message}, headers)


def _request_id() -> list[tuple[str, str]]:
    return [("x-amzn-RequestId", lambda_request_id())]
