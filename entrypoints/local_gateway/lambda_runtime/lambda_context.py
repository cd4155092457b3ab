"""The `context` argument a Lambda handler receives, as the local gateway builds it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from domain.limits import INTEGRATION_TIMEOUT_SECONDS
from entrypoints.local_gateway.lambda_runtime import ids

ACCOUNT_ID = "123456789012"  # the documentation account: no real account is implied


@dataclass(frozen=True)
class FunctionInfo:
    """What Lambda knows about the function: fixed for the life of `switchboard serve`."""

    function_name: str = "switchboard-local"
    function_version: str = "$LATEST"
    memory_limit_in_mb: str = "256"  # a string, as the Python runtime reads it from its env
    region: str = "us-east-1"
    log_stream_name: str = field(default_factory=ids.log_stream_name)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"


class LambdaContext:
    """Lambda's context object: the attributes and method of the Python runtime's (awslambdaric)."""

    def __init__(self, function: FunctionInfo, timeout: float = INTEGRATION_TIMEOUT_SECONDS):
        self.aws_request_id = ids.lambda_request_id()
        self.function_name = function.function_name
        self.function_version = function.function_version
        self.invoked_function_arn = function.invoked_function_arn
        self.memory_limit_in_mb = function.memory_limit_in_mb
        self.log_group_name = function.log_group_name
        self.log_stream_name = function.log_stream_name
        self.identity = None  # set only for calls from the mobile SDK
        self.client_context = None
        self._deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    def __repr__(self) -> str:
        return f"LambdaContext(aws_request_id={self.aws_request_id!r})"
