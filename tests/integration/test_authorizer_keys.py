"""The authorizer's key sources against real-ish peers: SSM under moto, JWKS over local HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from moto import mock_aws

from adapters.tokens.keys import JWKS_LIFESPAN_SECONDS
from domain.errors import InvalidToken
from entrypoints.composition.settings import AuthSettings
from entrypoints.composition.tokens import token_verifier
from tests.integration.jwks_server import JwksServer

CLAIMS = {"sub": "carol", "rooms": ["public:*"], "iss": "switchboard", "aud": "switchboard"}
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def claims() -> dict[str, Any]:
    return CLAIMS | {"iat": int(time.time()), "exp": int(time.time()) + 60}


def signed(key: Any, algorithm: str, kid: str) -> str:
    return jwt.encode(claims(), key, algorithm, headers={"kid": kid})


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
def jwks() -> Iterator[JwksServer]:
    with JwksServer() as server:
        server.add_key(RSA_KEY, "rsa-1", alg="RS256")
        server.add_key(EC_KEY, "ec-1")  # no alg: PyJWT reads ES256 from the P-256 curve
        yield server


def test_rs256_keys_from_a_jwks_endpoint_are_picked_by_kid(jwks: JwksServer) -> None:
    verifier = token_verifier(AuthSettings(algorithm="RS256", jwks_url=jwks.url))
    assert verifier.verify(signed(RSA_KEY, "RS256", "rsa-1")).rooms == ("public:*",)
    with pytest.raises(InvalidToken, match="no key"):
        verifier.verify(signed(RSA_KEY, "RS256", "nope"))


def test_es256_keys_from_a_jwks_endpoint(jwks: JwksServer) -> None:
    verifier = token_verifier(AuthSettings(algorithm="ES256", jwks_url=jwks.url))
    assert verifier.verify(signed(EC_KEY, "ES256", "ec-1")).principal == "carol"


@pytest.mark.parametrize(
    ("configured", "key", "kid"),
    [("ES256", EC_KEY, "rsa-1"), ("RS256", RSA_KEY, "ec-1")],
)
def test_a_jwks_key_of_another_type_denies_the_token(
    jwks: JwksServer, configured: str, key: Any, kid: str
) -> None:
    """An ES256 token naming the RSA key (or an RS256 one naming the EC key): refused."""
    verifier = token_verifier(AuthSettings(algorithm=configured, jwks_url=jwks.url))
    with pytest.raises(InvalidToken, match=f"is for .*, not {configured}"):
        verifier.verify(signed(key, configured, kid))


def test_a_token_without_kid_is_refused_without_fetching(jwks: JwksServer) -> None:
    verifier = token_verifier(AuthSettings(algorithm="RS256", jwks_url=jwks.url))
    with pytest.raises(InvalidToken, match=r"names no key \(kid\)"):
        verifier.verify(jwt.encode(claims(), RSA_KEY, "RS256"))
    assert jwks.requests == 0


def test_the_key_set_is_cached_and_a_removed_key_stops_verifying_after_its_lifespan(
    jwks: JwksServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    verifier = token_verifier(AuthSettings(algorithm="RS256", jwks_url=jwks.url))
    token = signed(RSA_KEY, "RS256", "rsa-1")
    for _ in range(3):
        verifier.verify(token)
    assert jwks.requests == 1  # one fetch, then the cached set
    jwks.keys = [k for k in jwks.keys if k["kid"] != "rsa-1"]  # revoked, e.g. leaked
    real = time.monotonic
    later = JWKS_LIFESPAN_SECONDS + 1
    monkeypatch.setattr(time, "monotonic", lambda: real() + later)
    with pytest.raises(InvalidToken, match="no key"):
        verifier.verify(token)
