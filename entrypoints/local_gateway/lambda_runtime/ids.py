"""Identifiers in API Gateway's and Lambda's styles."""

from __future__ import annotations

import base64
import os
import secrets
import string
import time
import uuid

_API_ID_ALPHABET = string.ascii_lowercase + string.digits


def gateway_id() -> str:
    """A connection, request or message id like API Gateway's: `L0SM9cOFvHcCIhw=`.

    11 random bytes in URL-safe base64 give 16 characters ending in `=`; the real ids use
    `-` and `_` too (e.g. `BFaT_fALIAMCKug=`), and never `/`, which would break the
    @connections path.
    """
    return base64.urlsafe_b64encode(os.urandom(11)).decode("ascii")


def api_id() -> str:
    """An API id like `fjnq7njcv2`: ten lowercase letters and digits."""
    return "".join(secrets.choice(_API_ID_ALPHABET) for _ in range(10))


def lambda_request_id() -> str:
    """Lambda's aws_request_id is a UUID."""
    return str(uuid.uuid4())


def trace_id() -> str:
    """An X-Amzn-Trace-Id header value: `Root=1-<epoch seconds, hex>-<96 random bits, hex>`."""
    return f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}"


def log_stream_name(function_version: str = "$LATEST") -> str:
    """A Lambda log stream name: `2024/11/11/[$LATEST]<32 hex digits>`."""
    return time.strftime("%Y/%m/%d/", time.gmtime()) + f"[{function_version}]{uuid.uuid4().hex}"
