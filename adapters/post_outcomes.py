"""How an @connections answer (status and x-amzn-ErrorType) maps to a PostOutcome."""

from __future__ import annotations

import logging

from domain.model import MAX_PAYLOAD_BYTES, PostOutcome

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


def refused_before_posting(payload: bytes, ids: list[str]) -> dict[str, PostOutcome] | None:
    """REJECTED for every id when the payload is over the quota (PostToConnection's 413:
    posting it again cannot succeed), logged once; None when the batch may be posted."""
    if len(payload) <= MAX_PAYLOAD_BYTES:
        return None
    log.error("payload of %d bytes exceeds %d: not posted", len(payload), MAX_PAYLOAD_BYTES)
    return dict.fromkeys(ids, PostOutcome.REJECTED)
