"""The authorizer's key sources against real-ish peers: SSM under moto, JWKS over local HTTP."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from moto import mock_aws

from domain.errors import InvalidToken
from entrypoints.composition.settings import AuthSettings
from entrypoints.composition.tokens import token_verifier

CLAIMS = {"sub": "carol", "rooms": ["public:*"], "iss": "switchboard", "aud": "switchboard"}


def claims() -> dict[str, Any]:
    return CLAIMS | {"exp": int(time.time()) + 60}


def test_hs256_secret_from_ssm_parameter_store() -> None:
    with mock_aws():
        ssm = boto3.client("ssm", region_name="eu-west-1")
        secret = "from-parameter-store-0123456789abcdef"
        ssm.put_parameter(Name="/switchboard/dev/jwt", Value=secret, Type="SecureString")
        verifier = token_verifier(
            AuthSettings(secret_parameter="/switchboard/dev/jwt", region="eu-west-1")
        )
        grant = verifier.verify(jwt.encode(claims(), secret, "HS256"))
        assert grant.principal == "carol"
        with pytest.raises(InvalidToken):
            verifier.verify(jwt.encode(claims(), "another-secret-0123456789abcdef!", "HS256"))


@pytest.fixture
def jwks_server() -> Iterator[tuple[str, Any]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    body = json.dumps({"keys": [jwk | {"kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json", key
    server.shutdown()
    server.server_close()


def test_rs256_keys_from_a_jwks_endpoint_picked_by_kid(jwks_server: tuple[str, Any]) -> None:
    url, key = jwks_server
    verifier = token_verifier(AuthSettings(algorithm="RS256", jwks_url=url))
    token = jwt.encode(claims(), key, "RS256", headers={"kid": "k1"})
    assert verifier.verify(token).rooms == ("public:*",)
    unknown = jwt.encode(claims(), key, "RS256", headers={"kid": "nope"})
    with pytest.raises(InvalidToken, match="no key"):
        verifier.verify(unknown)
