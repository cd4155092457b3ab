"""How an @connections answer (status and x-amzn-ErrorType) maps to a PostOutcome."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from domain.limits import MAX_PAYLOAD_BYTES
from domain.model import PostOutcome

log = logging.getLogger(__name__)

# botocore's service model for apigatewaymanagementapi names these four; the throttling
# names beyond LimitExceededException are what API Gateway's front door sends when the
# account-wide rate is exceeded before the @connections service sees the call.
_BY_ERROR_TYPE = {
    "GoneException": PostOutcome.GONE,
    "LimitExceededException": PostOutcome.THROTTLED,
    "ThrottlingException": PostOutcome.THROTTLED,
    "TooManyRequestsException": PostOutcome.THROTTLED,
    "PayloadTooLargeException": PostOutcome.REJECTED,
    "ForbiddenException": PostOutcome.REJECTED,
    "BadRequestException": PostOutcome.REJECTED,
}


def error_type(header: str | None) -> str:
    """The bare type from x-amzn-ErrorType, which may carry ':<namespace>' after it."""
    if not header:
        return ""
    return header.split(":", 1)[0].strip()


def outcome_of(status: int, error_code: str = "") -> PostOutcome:
    """The outcome of one post, from its HTTP status and error type (header or code)."""
    if 200 <= status < 300:
        return PostOutcome.DELIVERED
    known = _BY_ERROR_TYPE.get(error_type(error_code))
    if known is not None:
        return known
    if status == 410:
        return PostOutcome.GONE
    if status == 429:
        return PostOutcome.THROTTLED
    if 400 <= status < 500:
        # 400 (bad id), 403 (forbidden, bad or expired signature), 413 (too large):
        # posting the same request again cannot succeed.
        return PostOutcome.REJECTED
    # 5xx, and anything stranger (1xx, 3xx), is taken as transient: the domain retries it.
    return PostOutcome.FAILED


def screened(
    payload: bytes, connection_ids: Sequence[str]
) -> tuple[list[str], dict[str, PostOutcome] | None]:
    """A batch's distinct ids (each is posted once), and its outcomes when they are settled
    before any post: nothing to post, or a payload over the quota, REJECTED for every id
    (PostToConnection's 413: posting it again cannot succeed), logged once."""
    ids = list(dict.fromkeys(connection_ids))
    if not ids:
        return ids, {}
    if len(payload) <= MAX_PAYLOAD_BYTES:
        return ids, None
    log.error("payload of %d bytes exceeds %d: not posted", len(payload), MAX_PAYLOAD_BYTES)
    return ids, dict.fromkeys(ids, PostOutcome.REJECTED)
