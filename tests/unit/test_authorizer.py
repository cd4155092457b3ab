"""The $connect authorizer: JWTs from ?token= become Allow (with context), Deny (403) or 401."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from adapters.tokens.jwt_tokens import JwtVerifier, mint
from entrypoints import authorizer
from entrypoints.composition.settings import AuthSettings, SettingsError
from entrypoints.composition.tokens import token_verifier
from tests.support import LambdaContext, load_event

SECRET = "s3cret-for-tests-only-0123456789abcdef"


@pytest.fixture(autouse=True)
def hs256() -> Iterator[None]:
    authorizer.reset_verifier(token_verifier(AuthSettings(secret=SECRET)))
    yield
    authorizer.reset_verifier(None)


def authorize(token: str | None) -> dict[str, Any]:
    event = json.loads(json.dumps(load_event("authorizer_request")))
    event["queryStringParameters"] = {"token": token} if token is not None else None
    result: dict[str, Any] = authorizer.handler(event, LambdaContext())
    return result


def effect(result: dict[str, Any]) -> str:
    return str(result["policyDocument"]["Statement"][0]["Effect"])


def token(**overrides: Any) -> str:
    claims = {
        "sub": "alice",
        "rooms": ["public:*", "user:{sub}"],
        "iss": "switchboard",
        "aud": "switchboard",
        "exp": int(time.time()) + 3600,
    } | overrides
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, SECRET, "HS256")


def test_a_valid_token_is_allowed_with_sub_and_rooms_in_the_context() -> None:
    result = authorize(
        mint(SECRET, "alice", ["public:*", "user:{sub}"], 60, "switchboard", "switchboard")
    )
    assert effect(result) == "Allow"
    assert result["principalId"] == "alice"
    assert result["context"] == {"sub": "alice", "rooms": "public:*,user:{sub}"}
    statement = result["policyDocument"]["Statement"][0]
    assert statement["Resource"].endswith("/dev/$connect")


def test_no_token_raises_unauthorized_which_api_gateway_answers_401() -> None:
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(None)
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize("")


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (token(exp=int(time.time()) - 3600), "expired"),
        (token(iss="someone-else"), "issuer"),
        (token(aud="another-api"), "audience"),
        (token(sub=None), "sub"),
        (token(rooms="public:*"), "rooms"),
        (token(rooms=["has space"]), "rooms"),
        (
            jwt.encode(
                {
                    "sub": "a",
                    "iss": "switchboard",
                    "aud": "switchboard",
                    "exp": int(time.time()) + 3600,
                },
                "wrong-secret-0123456789abcdef0123",
                "HS256",
            ),
            "not valid",
        ),
        ("not.a.jwt", "not valid"),
    ],
)
def test_a_bad_token_is_denied_with_a_reason(bad: str, reason: str) -> None:
    result = authorize(bad)
    assert effect(result) == "Deny"
    assert reason in result["context"]["reason"]


def _pem_pair(private: Any) -> tuple[bytes, str]:
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


@pytest.mark.parametrize(
    ("algorithm", "key"),
    [
        ("RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        ("ES256", ec.generate_private_key(ec.SECP256R1())),
    ],
)
def test_asymmetric_tokens_are_checked_with_the_public_key(algorithm: str, key: Any) -> None:
    private_pem, public_pem = _pem_pair(key)
    verifier = token_verifier(AuthSettings(algorithm=algorithm, public_key=public_pem))
    claims = {
        "sub": "bob",
        "rooms": ["public:*"],
        "iss": "switchboard",
        "aud": "switchboard",
        "exp": int(time.time()) + 3600,
    }
    grant = verifier.verify(jwt.encode(claims, private_pem, algorithm))
    assert (grant.principal, grant.rooms) == ("bob", ("public:*",))
    # Algorithm confusion: an HS256 token must not pass an RS256/ES256 verifier.
    authorizer.reset_verifier(verifier)
    assert effect(authorize(token())) == "Deny"


def test_verifier_settings_need_exactly_one_key_source() -> None:
    with pytest.raises(SettingsError, match="exactly one of AUTH_SECRET, AUTH_SECRET_PARAMETER"):
        AuthSettings.from_environ({})
    with pytest.raises(SettingsError, match="AUTH_PUBLIC_KEY, AUTH_JWKS_URL"):
        AuthSettings.from_environ({"AUTH_ALGORITHM": "RS256", "AUTH_SECRET": "x"})
    with pytest.raises(SettingsError, match="AUTH_ALGORITHM='none'"):
        AuthSettings.from_environ({"AUTH_ALGORITHM": "none", "AUTH_SECRET": "x"})
    with pytest.raises(ValueError, match="algorithm"):
        JwtVerifier(lambda _t: "k", "none", "i", "a")
