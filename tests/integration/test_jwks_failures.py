"""A JWKS endpoint that fails (down, slow, garbage): the authorizer denies (403), never raises."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from adapters.tokens.keys import JWKS_TIMEOUT_SECONDS
from entrypoints import authorizer
from entrypoints.composition.settings import AuthSettings
from entrypoints.composition.tokens import token_verifier
from infra.cfn_yaml import load_template
from tests.integration.jwks_server import JwksServer
from tests.support import LambdaContext, load_event

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
CLAIMS = {"sub": "carol", "iss": "switchboard", "aud": "switchboard"}


@pytest.fixture
def jwks() -> Iterator[JwksServer]:
    with JwksServer() as server:
        server.add_key(KEY, "k1", alg="RS256")
        yield server
    authorizer.reset_verifier(None)


def authorize(jwks_url: str) -> dict[str, Any]:
    """The authorizer's answer to a well-signed token whose key is at `jwks_url`."""
    authorizer.reset_verifier(token_verifier(AuthSettings(algorithm="RS256", jwks_url=jwks_url)))
    now = int(time.time())
    token = jwt.encode(CLAIMS | {"iat": now, "exp": now + 60}, KEY, "RS256", headers={"kid": "k1"})
    event = load_event("authorizer_request") | {"queryStringParameters": {"token": token}}
    result: dict[str, Any] = authorizer.handler(event, LambdaContext())
    return result


def denied_because(result: dict[str, Any]) -> str:
    assert result["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    return str(result["context"]["reason"])


def test_a_healthy_endpoint_allows(jwks: JwksServer) -> None:
    assert authorize(jwks.url)["policyDocument"]["Statement"][0]["Effect"] == "Allow"


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, b"<html>Service Unavailable</html>"),  # PyJWT 2.10: JSONDecodeError
        (200, b"\xff\xfe\xfa garbage"),
        (200, b"[1, 2]"),
        (200, b'{"keys": "k1"}'),
        (200, b'{"keys": [1]}'),  # PyJWT 2.10: AttributeError
        (200, json.dumps({"keys": [{"kty": "RSA", "kid": "k1", "n": "x", "e": "y"}]}).encode()),
        (200, json.dumps({"keys": [{"kty": "EC", "kid": "k1", "alg": "RS256"}]}).encode()),
        (200, b'{"keys": []}'),
        (503, b'{"message": "down"}'),
        (404, b""),
    ],
)
def test_a_garbage_or_failing_endpoint_denies(jwks: JwksServer, status: int, body: bytes) -> None:
    jwks.status, jwks.body = status, body
    assert denied_because(authorize(jwks.url)).startswith("no key to check the token with")


def test_an_endpoint_that_hangs_up_denies(jwks: JwksServer) -> None:
    jwks.mode = "hang-up"  # PyJWT 2.10: http.client.RemoteDisconnected
    assert "no key" in denied_because(authorize(jwks.url))


def test_an_unreachable_endpoint_denies() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert "no key" in denied_because(authorize(f"http://127.0.0.1:{port}/jwks.json"))
    authorizer.reset_verifier(None)


def test_an_endpoint_that_never_answers_denies_within_the_fetch_timeout(jwks: JwksServer) -> None:
    jwks.mode = "hang"
    started = time.monotonic()
    reason = denied_because(authorize(jwks.url))
    elapsed = time.monotonic() - started
    assert "no key" in reason and "timed out" in reason
    assert JWKS_TIMEOUT_SECONDS - 0.2 < elapsed < JWKS_TIMEOUT_SECONDS + 1.5
    assert jwks.requests == 1


def test_two_fetch_timeouts_fit_well_inside_the_authorizers_lambda_timeout() -> None:
    """An unknown kid costs two fetches (PyJWT refetches once); both must end in time."""
    timeout = load_template()["Resources"]["Authorizer"]["Properties"]["Timeout"]
    assert timeout / 2 >= 2 * JWKS_TIMEOUT_SECONDS
