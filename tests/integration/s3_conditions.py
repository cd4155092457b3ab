"""Two S3 conditions moto does not model: the expected bucket owner, and aws:SecureTransport.

- AWS answers 403 AccessDenied to a request whose ExpectedBucketOwner (the header
  x-amz-expected-bucket-owner) is not the bucket's owner; a request without the header is not
  checked. moto ignores the header. `BucketOwners.attach` gives a client that behaviour in
  front of moto, for the owners a test assigns (any other bucket belongs to moto's account),
  and records every call the client makes.
- moto evaluates bucket policies on object requests but skips the conditions it does not know
  (all but StringEquals), so a statement denying requests without TLS denies every request.
  `model_secure_transport` teaches moto the Bool operator and says whether the request came
  over TLS: deploy reaches AWS over https, moto's server here over plain http on localhost.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from moto.iam import policy_conditions
from moto.iam.access_control import IAMPolicyStatement, PermissionResult
from urllib3.response import HTTPResponse

MOTO_ACCOUNT = "123456789012"
HEADER = "x-amz-expected-bucket-owner"
_DENIED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
    b"<Message>Access Denied</Message><RequestId>0</RequestId></Error>"
)


@dataclass(frozen=True)
class Call:
    """One S3 call as sent: the operation and the owner it expected (None: not sent)."""

    operation: str
    bucket: str | None
    expected_owner: str | None


@dataclass
class BucketOwners:
    owners: dict[str, str] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)

    def attach(self, s3: Any) -> Any:
        s3.meta.events.register("before-call.s3", self._record)
        s3.meta.events.register("before-send.s3", self._answer)
        return s3

    def _record(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        headers = params.get("headers", {})
        bucket = _bucket(params.get("url", ""))
        self.calls.append(Call(model.name, bucket, headers.get(HEADER)))

    def _answer(self, request: Any, **_: Any) -> AWSResponse | None:
        """403 as S3 sends it (no body to a HEAD) when the expected owner is not the owner."""
        expected = request.headers.get(HEADER)
        bucket = _bucket(request.url)
        if expected is None or bucket is None:
            return None
        if isinstance(expected, bytes):
            expected = expected.decode()
        if expected == self.owners.get(bucket, MOTO_ACCOUNT):
            return None
        body = b"" if request.method == "HEAD" else _DENIED
        fields = {"content-type": "application/xml", "x-amz-request-id": "0"}
        raw = HTTPResponse(body=io.BytesIO(body), status=403, headers=fields,
                           preload_content=False)  # fmt: skip
        return AWSResponse(request.url, 403, HTTPHeaders.from_dict(fields), raw)


def _bucket(url: str) -> str | None:
    """The bucket of a path-style URL, which botocore uses for an IP endpoint such as moto's."""
    first = urlsplit(url).path.lstrip("/").split("/", 1)[0]
    return first or None


def model_secure_transport(monkeypatch: pytest.MonkeyPatch, secure: bool = True) -> None:
    """moto's bucket policies see aws:SecureTransport as `secure`, and evaluate Bool on it.

    moto also answers DENIED for any statement whose condition does not hold, which is right
    for the Allow statements of trust policies; a Deny whose condition does not hold does not
    apply at all.
    """

    def boolean(expected: Any, actual: str) -> bool:
        values = expected if isinstance(expected, list) else [expected]
        return actual.lower() in [str(value).lower() for value in values]

    monkeypatch.setitem(policy_conditions.CONDITION_OPERATIONS, "Bool", boolean)
    transport = {"aws:SecureTransport": str(secure).lower()}
    is_action_permitted = IAMPolicyStatement.is_action_permitted

    def over_transport(
        self: IAMPolicyStatement,
        action: str,
        resource: str = "*",
        principal: str | None = None,
        incoming_condition_values: dict[str, str] | None = None,
    ) -> PermissionResult:
        values = transport | (incoming_condition_values or {})
        if self._statement.get("Effect") == "Deny" and not self._check_conditions(values):
            return PermissionResult.NEUTRAL
        return is_action_permitted(self, action, resource, principal, values)

    monkeypatch.setattr(IAMPolicyStatement, "is_action_permitted", over_transport)
