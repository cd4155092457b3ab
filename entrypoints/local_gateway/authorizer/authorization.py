"""The $connect authorizer: AWS's REQUEST event in; a handshake status and the routes' context out.

Like API Gateway: the exception message "Unauthorized" answers 401, a policy that does not allow
`execute-api:Invoke` on the method ARN answers 403, any other error or a malformed answer 500.
An allowed caller's `context`, with `principalId` and `integrationLatency`, becomes
requestContext.authorizer of every later event of the connection ($connect, messages,
$disconnect). Community-typed WebSocket events show both keys there; that later events repeat
the $connect-time `integrationLatency` is unconfirmed.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from entrypoints.local_gateway.authorizer.policy import MalformedPolicy, allows
from entrypoints.local_gateway.lambda_runtime.handlers import Handler
from entrypoints.local_gateway.lambda_runtime.invoker import Invoker
from entrypoints.local_gateway.lambda_runtime.lambda_context import ACCOUNT_ID

log = logging.getLogger("local_gateway")
# API Gateway passes the upgrade's hop-by-hop headers to the authorizer (AWS's example shows
# them), though not to $connect.
_UPGRADE_HEADERS = frozenset(("connection", "upgrade"))


@dataclass(frozen=True)
class Verdict:
    status: int  # 200: on to $connect; else the handshake's HTTP status
    context: dict[str, Any] | None = None  # requestContext.authorizer of every later event


def method_arn(region: str, api_id: str, stage: str) -> str:
    return f"arn:aws:execute-api:{region}:{ACCOUNT_ID}:{api_id}/{stage}/$connect"


class Authorizer:
    """A Lambda REQUEST authorizer, invoked on the handler's worker pool."""

    def __init__(
        self,
        function: Handler,
        invoker: Invoker,
        arn: str,
        identity_sources: Iterable[str] = (),
    ) -> None:
        """`identity_sources`: the template's IdentitySource (route.request.header.X,
        route.request.querystring.X); a handshake missing any of them is refused with 401
        without calling the function, as API Gateway does."""
        self._function = function
        self._invoker = invoker.sibling(self._decide, "authorizer")
        self.method_arn = arn
        self._sources = tuple(identity_sources)

    async def authorize(
        self, connect_event: Mapping[str, Any], upgrade_headers: Iterable[tuple[str, str]]
    ) -> Verdict:
        if not all(_present(source, connect_event) for source in self._sources):
            return Verdict(401)
        outcome = await self._invoker.invoke(self.request_event(connect_event, upgrade_headers))
        if outcome.failed or outcome.timed_out:
            return Verdict(500)  # the invoker has logged why, with the request id
        return Verdict(outcome.result["statusCode"], outcome.result.get("context"))

    def request_event(
        self, connect_event: Mapping[str, Any], upgrade_headers: Iterable[tuple[str, str]]
    ) -> dict[str, Any]:
        """AWS's REQUEST authorizer event for WebSocket APIs, built from the $connect event."""
        headers = dict(connect_event["headers"])
        multi = {name: list(values) for name, values in connect_event["multiValueHeaders"].items()}
        for name, value in upgrade_headers:
            if name.lower() in _UPGRADE_HEADERS:
                headers[name] = value
                multi.setdefault(name, []).append(value)
        return {
            "type": "REQUEST",
            "methodArn": self.method_arn,
            "headers": headers,
            "multiValueHeaders": multi,
            # Empty rather than absent without a query string (unconfirmed), so that
            # `event["queryStringParameters"].get("token")` works either way.
            "queryStringParameters": dict(connect_event.get("queryStringParameters") or {}),
            "multiValueQueryStringParameters": copy.deepcopy(
                connect_event.get("multiValueQueryStringParameters") or {}
            ),
            "stageVariables": {},
            # One upgrade request: the authorizer and $connect share its request id.
            "requestContext": copy.deepcopy(connect_event["requestContext"]),
        }

    def _decide(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        # Runs on a worker thread; its answer is shaped for the invoker's status log line.
        started = time.perf_counter()
        try:
            answer = self._function(event, context)
        except Exception as exc:
            if str(exc) != "Unauthorized":  # the one message API Gateway turns into 401
                raise
            return {"statusCode": 401}
        latency_ms = round((time.perf_counter() - started) * 1000)
        try:
            return judge(answer, self.method_arn, latency_ms)
        except MalformedPolicy as exc:
            request = event["requestContext"]
            log.error(
                "the authorizer's answer is malformed (%s): connection=%s request=%s",
                exc,
                request["connectionId"],
                request["requestId"],
            )
            return {"statusCode": 500}


def _present(source: str, event: Mapping[str, Any]) -> bool:
    """Whether an identity source (route.request.header.X, route.request.querystring.X) has a
    non-empty value in the $connect event; other sources are not checked locally."""
    for prefix, field, fold in (
        ("route.request.header.", "headers", True),
        ("route.request.querystring.", "queryStringParameters", False),
    ):
        if source.startswith(prefix):
            name = source.removeprefix(prefix)
            values = event.get(field) or {}
            if fold:
                values = {key.lower(): value for key, value in values.items()}
                name = name.lower()
            return bool(values.get(name))
    return True


def judge(answer: Any, arn: str, latency_ms: int) -> dict[str, Any]:
    """{"statusCode": 200, "context": ...} for an Allow, 403 for a Deny; MalformedPolicy else."""
    if not isinstance(answer, Mapping):
        raise MalformedPolicy(f"it is {type(answer).__name__}, not an object")
    principal = answer.get("principalId")
    if not isinstance(principal, str) or not principal:
        raise MalformedPolicy("principalId must be a non-empty string")
    context = answer.get("context") or {}
    if not isinstance(context, Mapping):
        raise MalformedPolicy("context must be an object")
    nested = sorted(str(k) for k, v in context.items() if not isinstance(v, str | int | float))
    if nested:  # bool is an int; objects, arrays and null are refused
        raise MalformedPolicy(f"context values must be strings, numbers or booleans: {nested}")
    if not allows(answer.get("policyDocument"), arn):
        return {"statusCode": 403}
    passed = {**context, "principalId": principal, "integrationLatency": latency_ms}
    return {"statusCode": 200, "context": passed}
