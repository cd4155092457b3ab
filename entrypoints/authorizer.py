"""The $connect REQUEST authorizer: a JWT from `?token=` becomes an IAM policy and a context.

No token: 401 (API Gateway's answer to the "Unauthorized" error). A token that fails any
check, or that no key can be had for (JWKS down, unknown kid): an explicit Deny, which API
Gateway turns into 403. A valid one: Allow, with the caller's `sub`, allowed room patterns,
broadcast grant and expiry in the context that every route then receives.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

from aws_lambda_powertools import Logger

from domain.errors import InvalidToken
from domain.model import Grant
from domain.ports import TokenVerifier
from entrypoints.composition.settings import AuthSettings
from entrypoints.observability import invocation

logger = Logger(service="switchboard-authorizer")
ContextValue: TypeAlias = str | int | bool
_verifier: TokenVerifier | None = None


def verifier() -> TokenVerifier:
    """Built once per process from the environment (AUTH_* settings)."""
    global _verifier
    if _verifier is None:
        from entrypoints.composition.tokens import token_verifier

        _verifier = token_verifier(AuthSettings.from_environ())
    return _verifier


def reset_verifier(new: TokenVerifier | None = None) -> None:
    global _verifier
    _verifier = new


@invocation(logger)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    resource = str(event.get("methodArn", "*"))
    params = event.get("queryStringParameters") or {}
    token = params.get("token") if isinstance(params, dict) else None
    request = event.get("requestContext") or {}
    logger.thread_safe_append_keys(
        connection_id=request.get("connectionId"), request_id=request.get("requestId")
    )
    if not token:
        logger.info("no token: 401")
        # The exact message "Unauthorized" is what makes API Gateway answer 401.
        raise Exception("Unauthorized")
    try:
        grant = verifier().verify(token)
    except InvalidToken as exc:
        logger.info("token refused: 403", extra={"reason": str(exc)})
        return _policy("anonymous", "Deny", resource, {"reason": str(exc)})
    accepted = {"sub": grant.principal, "rooms": list(grant.rooms), "broadcast": grant.broadcast}
    logger.info("token accepted", extra=accepted)
    return _policy(grant.principal, "Allow", resource, allow_context(grant))


def allow_context(grant: Grant) -> dict[str, ContextValue]:
    """The context of an Allow. Its values must be strings, numbers or booleans (no lists,
    no null): room patterns go comma-separated, and `exp` only when the grant has one."""
    context: dict[str, ContextValue] = {
        "sub": grant.principal,
        "rooms": ",".join(grant.rooms),
        "broadcast": grant.broadcast,
    }
    if grant.expires_at is not None:
        context["exp"] = grant.expires_at
    return context


def _policy(
    principal: str, effect: str, resource: str, ctx: Mapping[str, ContextValue]
) -> dict[str, Any]:
    return {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
        "context": ctx,
    }
