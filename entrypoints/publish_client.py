"""Publishing from a backend, in Python: `publish(url, room, data, id=None)`.

POSTs {"room", "data", "id"} to the stack's PublishURL (or `switchboard serve`'s
http://127.0.0.1:PORT/publish), signed with SigV4 (service execute-api) by botocore's signer
with the caller's boto3 credentials: the same ones, looked up the same way, as any boto3 client
of the caller's. The region is the URL's (an execute-api host names it), else the session's.

    from entrypoints.publish_client import PublishError, publish

    answer = publish(url, "room:42", {"text": "build finished"}, id="build-981")
    answer["seq"], answer["recipients"]

The answer is the API's, parsed: {"room", "seq", "id", "recipients", "duplicate"}. A refusal
(4xx, 5xx) raises PublishError with the status, the code ("invalid_room", "forbidden"...) and
the message.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import NoCredentialsError

SERVICE = "execute-api"
TIMEOUT_SECONDS = 30.0  # API Gateway gives up on the function after 29 s
_REGION_IN_HOST = re.compile(r"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$")
# Refusals that API Gateway itself answers, with {"message"} only.
_GATEWAY_CODES = {403: "forbidden", 404: "not_found", 413: "payload_too_large", 429: "throttled"}


class PublishError(RuntimeError):
    """The publish API refused the message: `status`, `code` and `message` say why."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def publish(
    url: str,
    room: str | None,
    data: Any,
    id: str | None = None,  # the API's own name for it
    *,
    session: boto3.Session | None = None,
    region: str | None = None,
    timeout: float = TIMEOUT_SECONDS,
) -> dict[str, Any]:
    """Publish `data` to `room` (None: to everyone) and return the API's answer."""
    body: dict[str, Any] = {"data": data}
    if room is not None:
        body["room"] = room
    if id is not None:
        body["id"] = id
    payload = json.dumps(body).encode()
    session = session or boto3.Session()
    credentials = session.get_credentials()
    if credentials is None:
        raise NoCredentialsError()
    region = region or region_of(url) or session.region_name
    if not region:
        raise ValueError(
            f"no region to sign for: {url} names none; set AWS_DEFAULT_REGION or pass region="
        )
    request = AWSRequest("POST", url, data=payload, headers={"Content-Type": "application/json"})
    SigV4Auth(credentials.get_frozen_credentials(), SERVICE, region).add_auth(request)
    prepared = request.prepare()
    call = urllib.request.Request(url, payload, dict(prepared.headers.items()), method="POST")
    try:
        with urllib.request.urlopen(call, timeout=timeout) as response:
            status, text = response.status, response.read()
    except urllib.error.HTTPError as refused:
        status, text = refused.code, refused.read()
    answer = _json(text)
    if status >= 400:
        code = answer.get("error") or _GATEWAY_CODES.get(status, f"http_{status}")
        raise PublishError(status, str(code), str(answer.get("message") or text[:200]))
    return answer


def region_of(url: str) -> str | None:
    """The region an execute-api URL names (https://ID.execute-api.REGION.amazonaws.com/...)."""
    host = urllib.parse.urlsplit(url).hostname or ""
    match = _REGION_IN_HOST.search(host)
    return match.group(1) if match else None


def _json(text: bytes) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
