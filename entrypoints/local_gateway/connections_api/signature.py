"""The SigV4 check of the @connections API and of POST /publish (AWS_IAM): what `serve` can
verify of a signature without IAM.

Every call needs an Authorization header of SigV4's form (AWS4-HMAC-SHA256; Credential scoped
to DATE/REGION/execute-api/aws4_request; SignedHeaders with host and x-amz-date), an X-Amz-Date
within five minutes of now, and serve's own region (sigv4_form). When the access key is the
one in serve's own environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, e.g. the dummy
"local" keys it sets), the signature itself is recomputed with botocore's SigV4Auth over the
request received. Any other key is accepted unverified: only IAM knows its secret, and serve
has no IAM. Refusals are 403 ForbiddenException (botocore's model has no other 403).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import logging
from collections.abc import Mapping
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials

from entrypoints.local_gateway.connections_api import sigv4_form
from entrypoints.local_gateway.connections_api.posting import Refusal
from entrypoints.local_gateway.web.http_router import HttpRequest

log = logging.getLogger("local_gateway")


class SignatureCheck:
    """Checks the SigV4 signature of @connections and /publish calls against serve's region
    and keys."""

    def __init__(self, region: str, access_key: str | None, secret_key: str | None) -> None:
        self.region = region
        self.known = Credentials(access_key, secret_key) if access_key and secret_key else None
        self._unverifiable: set[str] = set()

    @classmethod
    def from_environment(cls, env: Mapping[str, str], region: str) -> SignatureCheck:
        return cls(region, env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY"))

    def refusal(self, request: HttpRequest, now: datetime.datetime | None = None) -> Refusal | None:
        """Why `request` is refused (403 ForbiddenException), or None when it passes."""
        problem = self._problem(request, now or datetime.datetime.now(datetime.UTC))
        return Refusal(403, "ForbiddenException", problem) if problem else None

    def _problem(self, request: HttpRequest, now: datetime.datetime) -> str | None:
        header = request.header("authorization")
        if header is None:
            if "x-amz-signature=" in request.query.lower():
                return "serve checks SigV4 in the Authorization header only, not in the URL"
            return sigv4_form.MISSING
        auth = sigv4_form.parse(header)
        if isinstance(auth, str):
            return auth
        amz_date = request.header("x-amz-date")
        problem = sigv4_form.problem(auth, amz_date, self.region, now)
        if problem:
            return problem
        if self.known is None or auth.access_key != self.known.access_key:
            self._note_unverifiable(auth.access_key)
            return None
        assert amz_date is not None
        expected = _signature(request, auth.signed_headers, amz_date, self.known, self.region)
        matches = hmac.compare_digest(expected.encode(), auth.signature.encode())
        return None if matches else sigv4_form.MISMATCH

    def _note_unverifiable(self, access_key: str) -> None:
        if access_key not in self._unverifiable:
            self._unverifiable.add(access_key)
            own = (
                "its own key (AWS_ACCESS_KEY_ID in its environment)"
                if self.known
                else "no key: it has no AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY of its own"
            )
            log.warning(
                "SigV4: calls signed with access key %s are accepted unverified: serve"
                " has no IAM, so it verifies %s",
                access_key,
                own,
            )


class _AsSigned(SigV4Auth):
    """botocore's SigV4 over exactly the headers the client signed (botocore's own signer
    leaves out a few, e.g. User-Agent, which another SDK may sign)."""

    def headers_to_sign(self, request: AWSRequest) -> Any:
        headers = HTTPHeaders()
        for name, value in request.headers.items():
            headers[name.lower()] = value
        return headers


def _signature(
    request: HttpRequest, signed: tuple[str, ...], amz_date: str, known: Credentials, region: str
) -> str:
    """The signature the client should have sent: botocore's SigV4 over the request received."""
    url = "http://gateway" + request.path + (f"?{request.query}" if request.query else "")
    received = AWSRequest(method=request.method, url=url, data=request.body)
    for name, value in request.headers:
        if name in signed:
            received.headers[name] = value
    declared = received.headers.get("x-amz-content-sha256")
    if declared is not None and declared != hashlib.sha256(request.body).hexdigest():
        return ""  # a body hash that is not the body's: no signature matches
    received.context["timestamp"] = amz_date
    auth = _AsSigned(known, sigv4_form.SERVICE, region)
    canonical = auth.canonical_request(received)
    return str(auth.signature(auth.string_to_sign(received, canonical), received))
