"""RS256/ES256 keys verify tokens of their own algorithm only; a wrong PEM stops at start."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from adapters.tokens.jwt_tokens import JwtVerifier
from domain.errors import InvalidToken
from entrypoints.composition.settings import AuthSettings, SettingsError
from entrypoints.composition.tokens import token_verifier

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
KEYS: dict[str, Any] = {"RS256": RSA_KEY, "ES256": EC_KEY}


def claims() -> dict[str, Any]:
    now = int(time.time())
    return {"sub": "bob", "rooms": ["public:*"], "iss": "switchboard", "aud": "switchboard"} | {
        "iat": now,
        "exp": now + 3600,
    }


def public_pem(key: Any) -> str:
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return str(public.decode())


def private_pem(key: Any) -> str:
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return str(private.decode())


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_asymmetric_tokens_are_checked_with_the_public_key(algorithm: str) -> None:
    key = KEYS[algorithm]
    settings = AuthSettings(algorithm=algorithm, public_key=public_pem(key))
    verifier = token_verifier(settings)
    grant = verifier.verify(jwt.encode(claims(), private_pem(key), algorithm))
    assert (grant.principal, grant.rooms) == ("bob", ("public:*",))
    # Algorithm confusion: an HS256 token signed with the public PEM must not pass.
    forged = jwt.encode(claims(), "a-shared-secret-that-is-long-enough!", "HS256")
    with pytest.raises(InvalidToken, match="not valid"):
        verifier.verify(forged)


@pytest.mark.parametrize(
    ("algorithm", "pem", "message"),
    [
        ("RS256", public_pem(EC_KEY), "is not a PEM RSA public key, which RS256 needs"),
        ("ES256", public_pem(RSA_KEY), "is not a PEM EC P-256 public key, which ES256 needs"),
        ("ES256", public_pem(ec.generate_private_key(ec.SECP384R1())), "is not a PEM EC P-256"),
        ("RS256", private_pem(RSA_KEY), "is a private key"),
        ("ES256", "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----", "is not a PEM EC"),
    ],
)
def test_a_public_key_for_another_algorithm_stops_the_verifier_at_start(
    algorithm: str, pem: str, message: str
) -> None:
    with pytest.raises(SettingsError, match=f"^AUTH_PUBLIC_KEY {message}"):
        token_verifier(AuthSettings(algorithm=algorithm, public_key=pem))


def as_jwk(key: Any) -> jwt.PyJWK:
    """The public key as a JWKS would serve it, bound to its own algorithm."""
    implementation = jwt.algorithms.RSAAlgorithm if key is RSA_KEY else jwt.algorithms.ECAlgorithm
    return jwt.PyJWK(json.loads(implementation.to_jwk(key.public_key())))


@pytest.mark.parametrize(("configured", "key_of"), [("ES256", "RS256"), ("RS256", "ES256")])
def test_a_key_of_another_type_never_verifies_a_token(configured: str, key_of: str) -> None:
    """An RSA key must not check an ES256 token, nor an EC key an RS256 one: refused, not raised."""
    verifier = JwtVerifier(
        lambda _token: as_jwk(KEYS[key_of]),
        configured,
        "switchboard",
        "switchboard",
        max_ttl_seconds=86_400,
    )
    token = jwt.encode(claims(), KEYS[configured], configured)
    with pytest.raises(InvalidToken, match=f"is for {key_of}, not {configured}"):
        verifier.verify(token)
