"""POST /publish on serve's port: the template's publish HTTP API, AWS_IAM route and all.

As on AWS, the call's SigV4 signature is checked before any function runs (the same check as
@connections: connections_api/signature.py), a body past the HTTP API's 10 MB is refused with
413 unread (the router's cap), and the request becomes a payload format 2.0 event for the
template's publish handler, invoked like every Lambda here (lambda_runtime/). Its answer is
passed on as API Gateway passes on a format 2.0 response.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from typing import Any

from domain.limits import MAX_HTTP_API_BODY_BYTES
from entrypoints.local_gateway.connections_api import sigv4_form
from entrypoints.local_gateway.connections_api.signature import SignatureCheck
from entrypoints.local_gateway.lambda_runtime import ids
from entrypoints.local_gateway.lambda_runtime.handlers import OnFirstCall
from entrypoints.local_gateway.lambda_runtime.http_events import http_api_event, iam_identity
from entrypoints.local_gateway.lambda_runtime.invoker import Invocation, Invoker
from entrypoints.local_gateway.web.http_router import HttpRequest, HttpResponse, Router

log = logging.getLogger("local_gateway")
# The template's PublishHandler Handler (tests/integration/test_template.py checks it).
PUBLISH_HANDLER = "entrypoints.publish_api.handler"
PATH = "/publish"


def register(router: Router, invoker: Invoker, signatures: SignatureCheck | None) -> None:
    """Serve POST /publish; `signatures` checks each call (None: --allow-unsigned, no check).
    The publish handler is imported on the first publish and runs on the handler's workers."""
    handler = OnFirstCall(PUBLISH_HANDLER, option="the publish handler")
    api = PublishApi(invoker.sibling(handler, "publish"), signatures, ids.api_id())
    router.add(("POST",), PATH, api.handle, max_body_bytes=MAX_HTTP_API_BODY_BYTES)


class PublishApi:
    def __init__(self, invoker: Invoker, signatures: SignatureCheck | None, api_id: str) -> None:
        self._invoker = invoker
        self._signatures = signatures
        self._api_id = api_id

    async def handle(self, request: HttpRequest) -> HttpResponse:
        refusal = self._signatures.refusal(request) if self._signatures else None
        if refusal is not None:
            log.info("POST %s refused: %s", PATH, refusal.message)
            headers = [("x-amzn-ErrorType", refusal.error_type)]
            return HttpResponse.json(refusal.status, {"message": refusal.message}, headers)
        event = http_api_event(
            request.method,
            request.path,
            request.query,
            request.headers,
            request.body,
            api_id=self._api_id,
            host=request.header("host") or "127.0.0.1",
            iam=_identity(request),
        )
        return response(await self._invoker.invoke(event))


def _identity(request: HttpRequest) -> dict[str, Any] | None:
    """The signer's access key (checked above unless --allow-unsigned); None when unsigned."""
    header = request.header("authorization")
    auth = sigv4_form.parse(header) if header else None
    return iam_identity(auth.access_key) if isinstance(auth, sigv4_form.Authorization) else None


def response(outcome: Invocation) -> HttpResponse:
    """API Gateway's answer to a format 2.0 result: the function's own status, headers and body;
    a result without a statusCode is the body of a 200 (format 2.0's inference); 500 when the
    function failed or answered nonsense, 503 when it timed out."""
    if outcome.timed_out:
        return HttpResponse.json(503, {"message": "Service Unavailable"})
    result = outcome.result
    if outcome.failed or not _valid(result):
        return HttpResponse.json(500, {"message": "Internal Server Error"})
    if not isinstance(result, dict) or "statusCode" not in result:
        return HttpResponse.json(200, result)
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    headers = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
    return HttpResponse(int(result["statusCode"]), data, headers)


def _valid(result: Any) -> bool:
    if not isinstance(result, dict) or "statusCode" not in result:
        try:
            json.dumps(result)
        except (TypeError, ValueError):
            return False
        return True
    status, headers = result["statusCode"], result.get("headers") or {}
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        return False
    if not isinstance(headers, dict):
        return False
    if result.get("isBase64Encoded"):
        try:
            base64.b64decode(str(result.get("body") or ""), validate=True)
        except binascii.Error:
            return False
    return True
