"""The @connections SigV4 check: form, scope, date and region always; the signature for serve's
own key; any other key accepted unverified."""

from __future__ import annotations

import dataclasses
import datetime
import logging

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from entrypoints.local_gateway.connections_api.signature import SignatureCheck
from entrypoints.local_gateway.connections_api.sigv4_form import MISMATCH, MISSING
from entrypoints.local_gateway.web.http_router import HttpRequest

HOST = "127.0.0.1:8080"
PATH = "/dev/@connections/L0SM9cOFvHcCIhw%3D"
CHECK = SignatureCheck("us-east-1", "local", "local")


def signed(
    body: bytes = b"hi",
    *,
    key: str = "local",
    secret: str = "local",
    region: str = "us-east-1",
    service: str = "execute-api",
    headers: dict[str, str] | None = None,
) -> HttpRequest:
    """A POST as boto3's client sends it: signed by botocore, Host added by the HTTP client."""
    request = AWSRequest(method="POST", url=f"http://{HOST}{PATH}", data=body, headers=headers)
    SigV4Auth(Credentials(key, secret), service, region).add_auth(request)
    sent = [("host", HOST), *((name.lower(), value) for name, value in request.headers.items())]
    return HttpRequest("POST", PATH, "", sent, body)


def with_header(request: HttpRequest, name: str, value: str | None) -> HttpRequest:
    kept = [(key, old) for key, old in request.headers if key != name]
    return dataclasses.replace(request, headers=kept + ([(name, value)] if value else []))


def message(request: HttpRequest, check: SignatureCheck = CHECK, **now: int) -> str | None:
    moment = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=now.get("at", 0))
    refusal = check.refusal(request, moment)
    if refusal is None:
        return None
    assert (refusal.status, refusal.error_type) == (403, "ForbiddenException")
    return refusal.message


def test_a_call_signed_with_serves_own_key_passes() -> None:
    assert message(signed()) is None
    assert message(signed(b"", headers={"User-Agent": "Boto3/1.40", "X-Extra": "1"})) is None


@pytest.mark.parametrize(
    "request_",
    [
        signed(secret="not-local"),
        dataclasses.replace(signed(b"hello"), body=b"hellO"),  # the body changed on the way
        dataclasses.replace(signed(), path="/dev/@connections/other%3D"),
        dataclasses.replace(signed(), method="DELETE"),
        with_header(signed(), "host", "evil.example:8080"),
        signed(headers={"X-Amz-Content-SHA256": "0" * 64}),  # signs a hash that is not the body's
    ],
)
def test_a_bad_signature_by_serves_own_key_is_refused_in_aws_words(request_: HttpRequest) -> None:
    assert message(request_) == MISMATCH


def test_another_key_cannot_be_verified_so_it_passes_once_its_form_is_right(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="local_gateway"):
        assert message(signed(key="AKIAOTHER", secret="whatever")) is None
        assert message(signed(key="AKIAOTHER", secret="anything")) is None
    [warning] = caplog.records  # said once per key
    assert "AKIAOTHER are accepted unverified" in warning.getMessage()
    assert message(signed(key="AKIAOTHER", region="eu-west-1")) is not None  # form still checked


def test_without_known_keys_no_signature_is_verified() -> None:
    check = SignatureCheck("us-east-1", None, None)
    assert message(signed(secret="not-local"), check) is None


def test_unsigned_and_presigned_calls_are_refused() -> None:
    unsigned = HttpRequest("POST", PATH, "", [("host", HOST)], b"hi")
    assert message(unsigned) == MISSING
    presigned = dataclasses.replace(unsigned, query="X-Amz-Signature=abc&X-Amz-Date=x")
    assert "Authorization header only" in (message(presigned) or "")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("region", "eu-west-1"), "region, not 'eu-west-1'. (This gateway's region is us-east-1.)"),
        (("service", "s3"), "Credential should be scoped to correct service: 'execute-api'. "),
    ],
)
def test_the_scope_must_be_serves_region_and_execute_api(
    change: tuple[str, str], expected: str
) -> None:
    assert expected in (message(signed(**{change[0]: change[1]})) or "")  # type: ignore[arg-type]


def rewritten(old: str, new: str) -> HttpRequest:
    request = signed()
    header = request.header("authorization") or ""
    assert old in header
    return with_header(request, "authorization", header.replace(old, new))


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (with_header(signed(), "authorization", "Bearer abc.def"), "not 'Bearer'"),
        (rewritten("SignedHeaders=", "Signed="), "requires 'SignedHeaders' parameter."),
        (rewritten("Credential=local/", "Credential="), "Credential must be KEY/YYYYMMDD/"),
        (rewritten("/aws4_request", "/aws5_request"), "valid terminator: 'aws4_request'"),
        (rewritten("host;", ""), "'Host' or ':authority' must be a 'SignedHeader'"),
        (rewritten(";x-amz-date", ""), "'X-Amz-Date' must be a 'SignedHeader'"),
        (rewritten("Signature=", "Signature=zz"), MISMATCH),
        (with_header(signed(), "x-amz-date", None), "requires existence of a 'X-Amz-Date'"),
        (with_header(signed(), "x-amz-date", "2024-01-01"), "ISO8601 Long Format"),
        (with_header(signed(), "x-amz-date", "20000101T000000Z"), "Date in Credential scope"),
    ],
)
def test_the_authorization_headers_form_is_checked(request_: HttpRequest, expected: str) -> None:
    assert expected in (message(request_) or "")


@pytest.mark.parametrize(
    ("minutes", "expected"), [(6, "Signature expired: "), (-6, "Signature not yet current: ")]
)
def test_the_date_must_be_within_five_minutes(minutes: int, expected: str) -> None:
    assert (message(signed(), at=minutes) or "").startswith(expected)
    assert message(signed(), at=minutes // 2) is None  # inside the window: fine
